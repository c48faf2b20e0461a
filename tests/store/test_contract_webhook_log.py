"""The raw webhook log, on every backend: retention that keeps the dedupe keys, the latest webhook's time,
rejections kept with their reasons."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.store.conftest import Backend
from tests.support.store import ANA, BUSINESS, record
from wa_inbox.config import Settings
from wa_inbox.domain.models import InboundMessage, StatusUpdate, Verdict, WebhookKind, WebhookRecord
from wa_inbox.retention import pruning_webhook_log
from wa_inbox.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_pruning_deletes_old_rows_and_keeps_the_dedupe_keys(store: Store, backend: Backend) -> None:
    old_in, old_status, new_in = (f"SM{n:032x}" for n in (1, 2, 3))
    old = NOW - timedelta(days=31)
    await store.ingest_inbound(InboundMessage(old_in, ANA, BUSINESS, "hi"), record(old_in, at=old))
    update = StatusUpdate(old_status, "delivered", to_addr=ANA)
    await store.ingest_status(update, record(old_status, WebhookKind.STATUS, at=old))
    await store.ingest_inbound(InboundMessage(new_in, ANA, BUSINESS, "again"), record(new_in, at=NOW))

    removed = await store.prune_webhook_log(NOW - timedelta(days=30))

    assert removed == 2
    assert await backend.rows("SELECT message_sid FROM webhook_log") == [(new_in,)]
    retry = await store.ingest_inbound(InboundMessage(old_in, ANA, BUSINESS, "hi"), record(old_in, at=NOW))
    status_retry = await store.ingest_status(update, record(old_status, WebhookKind.STATUS, at=NOW))
    assert (retry, status_retry) == (False, False)  # Twilio's retries are still known after the raw rows go
    assert await backend.rows("SELECT COUNT(*) FROM messages WHERE sid = ?", old_in) == [(1,)]
    assert await store.prune_webhook_log(NOW - timedelta(days=30)) == 0


async def test_the_server_prunes_at_start_and_then_periodically(store: Store, backend: Backend) -> None:
    clock = [NOW]
    await store.ingest_inbound(
        InboundMessage("SM" + "a" * 32, ANA, BUSINESS, "hi"), record("SM" + "a" * 32, at=NOW)
    )
    settings = Settings.model_validate({"retention": {"webhook_log_days": 2}})

    async with pruning_webhook_log(settings, store, every_seconds=0.05, clock=lambda: clock[0]):
        await asyncio.sleep(0.2)
        assert await backend.rows("SELECT COUNT(*) FROM webhook_log") == [(1,)]
        clock[0] = NOW + timedelta(days=2, seconds=1)
        for _ in range(100):
            if await backend.rows("SELECT COUNT(*) FROM webhook_log") == [(0,)]:
                break
            await asyncio.sleep(0.05)

    assert await backend.rows("SELECT COUNT(*) FROM webhook_log") == [(0,)]
    assert await store.get_message("SM" + "a" * 32) is not None


async def test_the_last_webhook_is_the_latest_written_to_the_log(store: Store) -> None:
    assert await store.last_webhook_at() is None
    first, second = (f"SM{n:032x}" for n in (1, 2))
    await store.ingest_inbound(
        InboundMessage(first, ANA, BUSINESS, "hi"), record(first, at=NOW - timedelta(minutes=5))
    )
    await store.ingest_status(
        StatusUpdate(second, "sent", to_addr=ANA), record(second, WebhookKind.STATUS, at=NOW)
    )

    assert await store.last_webhook_at() == NOW


async def test_rejections_are_kept_with_their_reasons_newest_first(store: Store) -> None:
    assert (await store.rejected_webhooks(), await store.count_rejected_webhooks()) == ([], 0)
    forbidden = WebhookRecord(
        WebhookKind.STATUS, "/twilio/status", Verdict.FORBIDDEN, "Body=x", {"host": "h"}, NOW, "bad signature"
    )
    malformed = WebhookRecord(
        WebhookKind.INBOUND,
        "/twilio/inbound",
        Verdict.MALFORMED,
        "",
        {},
        NOW + timedelta(seconds=1),
        "no MessageSid",
        body_bytes=0,
        header_bytes=12,
    )
    await store.log_rejection(forbidden)
    await store.log_rejection(malformed)
    await store.ingest_inbound(InboundMessage("SM" + "a" * 32, ANA, BUSINESS, "hi"), record("SM" + "a" * 32))

    rejected = await store.rejected_webhooks()

    assert [(r.verdict, r.reason, r.path, r.received_at) for r in rejected] == [
        (Verdict.MALFORMED, "no MessageSid", "/twilio/inbound", NOW + timedelta(seconds=1)),
        (Verdict.FORBIDDEN, "bad signature", "/twilio/status", NOW),
    ]
    assert (rejected[0].body_bytes, rejected[0].header_bytes) == (0, 12)
    assert [r.verdict for r in await store.rejected_webhooks(limit=1)] == [Verdict.MALFORMED]
    assert await store.count_rejected_webhooks() == 2
