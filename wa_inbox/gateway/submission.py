"""Accepting a message: the policy first, then the queue. It needs only the store, never Twilio.

Delivering it is the sender's job (`gateway.outbox`), in whichever process holds the sender lease, so
an inbox attached to a `wa-inbox serve` queues without Twilio credentials of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from wa_inbox.config import Settings
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.policy import Draft, refusal
from wa_inbox.store import Store


class Refused(Exception):
    """The policy refused a draft before anything left; the message is the sentence for the agent."""


class Submitter:
    """Checks a draft against the policy and queues it; `queued` (if given) wakes a sender here."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] = utc_now,
        queued: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = settings.limits()
        self._queued = queued

    async def submit(self, draft: Draft, idempotency_key: str | None = None) -> int:
        """Queue `draft` if Twilio would take it, else raise `Refused`; returns the message id."""
        contact = await self._store.get_contact(draft.address)
        if reason := refusal(draft, contact, self._clock(), self._limits):
            raise Refused(reason)
        message_id = await self._store.queue_draft(draft, idempotency_key or uuid.uuid4().hex)
        if message_id is None:
            raise Refused("Not sent again: a message with this idempotency key was already queued.")
        if self._queued is not None:
            self._queued()
        return message_id
