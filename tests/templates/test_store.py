"""The `templates` table: a synced set replaces the old one whole, and failed template sends are found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.tui import record, template_info
from wa_inbox.domain.models import StatusUpdate, WebhookKind
from wa_inbox.domain.policy import Draft
from wa_inbox.emulator.templates import BY_NAME, TEMPLATES
from wa_inbox.store import StoreConflict
from wa_inbox.store.sqlite import SqliteStore

NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
ANA = "whatsapp:+5511987654321"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db", clock=lambda: NOW)
    yield opened
    await opened.close()


async def test_templates_come_back_as_stored_with_when(store: SqliteStore) -> None:
    rejected = replace(
        template_info(BY_NAME["winback_discount"]),
        rejection_reason="INCORRECT_CATEGORY",
        types=dict(BY_NAME["winback_discount"].types),
    )
    quick = template_info(BY_NAME["delivery_slot_confirm"])
    await store.replace_templates([rejected, quick])

    assert await store.list_templates() == [
        replace(quick, synced_at=NOW),  # by name: delivery_… before winback_…
        replace(rejected, synced_at=NOW),
    ]


async def test_a_sync_replaces_the_whole_set(store: SqliteStore) -> None:
    await store.replace_templates([template_info(t) for t in TEMPLATES])
    kept = template_info(BY_NAME["order_shipped"])
    await store.replace_templates([kept])  # the others were deleted at Twilio
    assert [t.sid for t in await store.list_templates()] == [kept.sid]


async def test_a_failed_sync_leaves_the_old_set(store: SqliteStore) -> None:
    await store.replace_templates([template_info(t) for t in TEMPLATES])
    before = await store.list_templates()
    twice = template_info(BY_NAME["spring_sale"])
    with pytest.raises(StoreConflict):
        await store.replace_templates([template_info(BY_NAME["order_shipped"]), twice, twice])
    assert await store.list_templates() == before


async def test_send_errors_are_template_sends_that_failed_after_twilio_took_them(
    store: SqliteStore,
) -> None:
    before = store.committed_seq
    shipped = BY_NAME["order_shipped"].sid
    await _sent(store, Draft(ANA, content_sid=shipped), "SM" + "1" * 32, 63016)  # template, by callback
    await _sent(store, Draft(ANA, "Hello?"), "SM" + "2" * 32, 63016)  # a session message
    await store.queue_draft(Draft(ANA, content_sid=shipped), "refused-by-api")
    (job,) = await store.claim_unsent(1)
    await store.record_failed(job.id, 21656, "refused")  # the API refused it: the sender handles those

    assert await store.template_send_errors(before, store.committed_seq) == [63016]
    assert await store.template_send_errors(store.committed_seq, store.committed_seq) == []


async def _sent(store: SqliteStore, draft: Draft, sid: str, error_code: int) -> None:
    await store.queue_draft(draft, sid)
    (job,) = await store.claim_unsent(1)
    await store.record_accepted(job.id, sid, "queued", None, None)
    update = StatusUpdate(sid, "failed", error_code, "refused", None, ANA)
    await store.ingest_status(update, record(WebhookKind.STATUS, sid, NOW))
