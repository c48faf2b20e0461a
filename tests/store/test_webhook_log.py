"""The raw webhook log's bounds: retention that keeps the dedupe keys, a "last webhook" read that stays one
row long, and old rejections cut to samples by migration 008."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store.test_migrations import older
from wa_inbox.config import Settings
from wa_inbox.domain.models import InboundMessage, StatusUpdate, Verdict, WebhookKind, WebhookRecord
from wa_inbox.retention import pruning_webhook_log
from wa_inbox.store.codec import ts
from wa_inbox.store.sqlite import SqliteStore

ANA = "whatsapp:+5511987654321"
BUSINESS = "whatsapp:+14155238886"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(
    sid: str, at: datetime, kind: WebhookKind = WebhookKind.INBOUND, path: str = "/t"
) -> WebhookRecord:
    return WebhookRecord(kind, path, Verdict.ACCEPTED, f"MessageSid={sid}", {}, at, None, sid)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db")
    yield opened
    await opened.close()


def rows(store: SqliteStore, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(store.path) as conn:
        return conn.execute(sql).fetchall()


async def test_pruning_deletes_old_rows_and_keeps_the_dedupe_keys(store: SqliteStore) -> None:
    old_in, old_status, new_in = (f"SM{n:032x}" for n in (1, 2, 3))
    old = NOW - timedelta(days=31)
    await store.ingest_inbound(InboundMessage(old_in, ANA, BUSINESS, "hi"), record(old_in, old))
    update = StatusUpdate(old_status, "delivered", to_addr=ANA)
    await store.ingest_status(update, record(old_status, old, WebhookKind.STATUS))
    await store.ingest_inbound(InboundMessage(new_in, ANA, BUSINESS, "again"), record(new_in, NOW))

    removed = await store.prune_webhook_log(NOW - timedelta(days=30))

    assert removed == 2
    assert rows(store, "SELECT message_sid FROM webhook_log") == [(new_in,)]
    retry = await store.ingest_inbound(InboundMessage(old_in, ANA, BUSINESS, "hi"), record(old_in, NOW))
    status_retry = await store.ingest_status(update, record(old_status, NOW, WebhookKind.STATUS))
    assert (retry, status_retry) == (False, False)  # Twilio's retries are still known after the raw rows go
    assert rows(store, "SELECT COUNT(*) FROM messages WHERE sid = '" + old_in + "'") == [(1,)]


async def test_pruning_goes_batch_by_batch_and_stops_at_the_first_row_it_keeps(store: SqliteStore) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.executemany(
            "INSERT INTO webhook_log (received_at, kind, path, verdict, body, headers)"
            " VALUES (?, 'status', '/t', 'accepted', '', '{}')",
            [(ts(NOW - timedelta(days=60, seconds=-n)),) for n in range(2500)]
            + [(ts(NOW - timedelta(minutes=5)),)] * 10,
        )

    assert await store.prune_webhook_log(NOW - timedelta(days=30)) == 2500
    assert rows(store, "SELECT COUNT(*) FROM webhook_log") == [(10,)]
    assert await store.prune_webhook_log(NOW - timedelta(days=30)) == 0


async def test_the_server_prunes_at_start_and_then_periodically(store: SqliteStore) -> None:
    clock = [NOW]
    await store.ingest_inbound(
        InboundMessage("SM" + "a" * 32, ANA, BUSINESS, "hi"), record("SM" + "a" * 32, NOW)
    )
    settings = Settings.model_validate({"retention": {"webhook_log_days": 2}})

    async with pruning_webhook_log(settings, store, every_seconds=0.05, clock=lambda: clock[0]):
        await asyncio.sleep(0.2)
        assert rows(store, "SELECT COUNT(*) FROM webhook_log") == [(1,)]
        clock[0] = NOW + timedelta(days=2, seconds=1)
        for _ in range(100):
            if rows(store, "SELECT COUNT(*) FROM webhook_log") == [(0,)]:
                break
            await asyncio.sleep(0.05)

    assert rows(store, "SELECT COUNT(*) FROM webhook_log") == [(0,)]
    assert await store.get_message("SM" + "a" * 32) is not None


async def test_last_webhook_reads_the_newest_row_not_the_table(store: SqliteStore) -> None:
    assert await store.last_webhook_at() is None
    with sqlite3.connect(store.path) as conn:
        conn.executemany(
            "INSERT INTO webhook_log (received_at, kind, path, verdict, body, headers)"
            " VALUES (?, 'status', '/twilio/status', 'forbidden', ?, '{}')",
            ((ts(NOW - timedelta(seconds=n)), "x" * 200) for n in range(300_000, 0, -1)),
        )
    seeded = NOW - timedelta(hours=3)
    await store.ingest_inbound(
        InboundMessage("SM" + "b" * 32, ANA, BUSINESS, "seed"), record("SM" + "b" * 32, seeded, path="/seed")
    )
    with sqlite3.connect(store.path) as conn:
        plan = " ".join(
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT received_at FROM webhook_log"
                " WHERE path != '/seed' ORDER BY id DESC LIMIT 1"
            )
        )
    assert "TEMP B-TREE" not in plan  # walks the rowid backwards: no sort, no full read

    started = time.perf_counter()
    for _ in range(20):
        last = await store.last_webhook_at()
    per_read = (time.perf_counter() - started) / 20

    assert last == NOW - timedelta(seconds=1)  # the demo's seeded row does not count
    assert per_read < 0.005


async def test_migration_008_cuts_old_rejections_to_samples(tmp_path: Path) -> None:
    with older(tmp_path / "inbox.db", "008_webhook_log_bounds") as conn:
        insert = (
            "INSERT INTO webhook_log (received_at, kind, path, verdict, body, headers)"
            " VALUES (?, 'status', '/twilio/status', ?, ?, ?)"
        )
        huge_headers = json.dumps({"x-junk": "j" * 100_000, "host": "example"})
        conn.execute(insert, (ts(NOW), "forbidden", "Body=" + "f" * 60_000, huge_headers))
        conn.execute(insert, (ts(NOW), "accepted", "Body=" + "a" * 5_000, json.dumps({"host": "h"})))
        conn.execute(insert, (ts(NOW), "malformed", "Body=short", json.dumps({"host": "h"})))
    conn.close()

    store = await SqliteStore.open(tmp_path / "inbox.db")
    try:
        rejected = await store.rejected_webhooks()
    finally:
        await store.close()

    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        kept = conn.execute(
            "SELECT verdict, length(body), body_bytes, length(headers), header_bytes"
            " FROM webhook_log ORDER BY id"
        ).fetchall()
    assert kept == [
        ("forbidden", 1024, 60_005, 2, len(huge_headers)),
        ("accepted", 5_005, None, len('{"host": "h"}'), None),  # Twilio's, whole, as before
        ("malformed", 10, None, len('{"host": "h"}'), None),
    ]
    assert [(r.verdict, r.body_bytes, r.headers) for r in rejected] == [
        (Verdict.MALFORMED, None, {"host": "h"}),
        (Verdict.FORBIDDEN, 60_005, {}),
    ]
