"""What the store's contract tests say to a store: customers, webhook records, a hand-moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wa_inbox.domain.models import InboundMessage, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.policy import Draft
from wa_inbox.store import Store

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+34612345678"
BUSINESS = "whatsapp:+14155238886"


def sid(n: int) -> str:
    """The n-th message SID of a test: unique, and in the form Twilio's have."""
    return f"SM{n:032x}"


def record(
    message_sid: str,
    kind: WebhookKind = WebhookKind.INBOUND,
    at: datetime | None = None,
    path: str = "/t",
    body: str | None = None,
) -> WebhookRecord:
    """The accepted webhook that carried `message_sid`, arrived `at` (now, if not given)."""
    return WebhookRecord(
        kind,
        path,
        Verdict.ACCEPTED,
        f"MessageSid={message_sid}" if body is None else body,
        {},
        at or datetime.now(UTC),
        None,
        message_sid,
    )


async def inbound(
    store: Store, n: int, body: str = "hello", address: str = ANA, replied_to: str | None = None
) -> None:
    """The customer at `address` writes message `n`."""
    await store.ingest_inbound(
        InboundMessage(sid(n), address, BUSINESS, body, replied_to_sid=replied_to), record(sid(n))
    )


async def we_send(store: Store, draft: Draft, message_sid: str) -> None:
    """Queue `draft`, claim it and record Twilio's acceptance as `message_sid`, as the sender does."""
    message_id = await store.queue_draft(draft, message_sid)
    assert message_id is not None
    await store.claim_unsent(1, message_id)
    await store.record_accepted(message_id, message_sid, "queued", BUSINESS, None)


class Clock:
    """The store's wall clock, moved by hand."""

    def __init__(self, now: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
