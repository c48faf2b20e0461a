"""Accepting a message: the policy first, then the queue. It needs only the store, never Twilio.

Delivering it is the sender's job (`gateway.outbox`), in whichever process holds the sender lease, so
an inbox attached to a `wa-inbox serve` queues without Twilio credentials of its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from wa_inbox.config import Settings
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.policy import Draft, why_refused
from wa_inbox.store import Store

if TYPE_CHECKING:
    from wa_inbox.metrics import Metrics

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"
"""The refusal reason (a metric label) of a draft queued before under the same idempotency key."""


class Refused(Exception):
    """The policy refused a draft before anything left; the message is the sentence for the agent,
    `reason` the rule's short name (`policy.RefusalKind`, or `duplicate`), for counting."""

    def __init__(self, sentence: str, reason: str = "other") -> None:
        super().__init__(sentence)
        self.reason = reason


def report_refusal(
    metrics: Metrics | None, address: str, reason: str, sentence: str, message_id: int | None = None
) -> None:
    """Count and log a refusal: at INFO, so that a command's one sentence stays the only thing on
    its terminal (an unconfigured logger prints warnings there)."""
    if metrics:
        metrics.refused(reason)
    which = f"message {message_id}" if message_id is not None else "a message"
    log.info(
        f"refused {which} to {address} ({reason}): {sentence}",
        extra={"refusal": reason, "message_id": message_id},
    )


class Submitter:
    """Checks a draft against the policy and queues it; `queued` (if given) wakes a sender here."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] = utc_now,
        queued: Callable[[], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = settings.limits()
        self._queued = queued
        self._metrics = metrics

    async def submit(self, draft: Draft, idempotency_key: str | None = None) -> int:
        """Queue `draft` if Twilio would take it, else raise `Refused` (counted and logged with its
        reason); returns the message id."""
        contact = await self._store.get_contact(draft.address)
        if refusal := why_refused(draft, contact, self._clock(), self._limits):
            report_refusal(self._metrics, draft.address, refusal.kind, refusal.sentence)
            raise Refused(refusal.sentence, refusal.kind)
        message_id = await self._store.queue_draft(draft, idempotency_key or uuid.uuid4().hex)
        if message_id is None:
            sentence = "Not sent again: a message with this idempotency key was already queued."
            report_refusal(self._metrics, draft.address, DUPLICATE, sentence)
            raise Refused(sentence, DUPLICATE)
        if self._queued is not None:
            self._queued()
        return message_id
