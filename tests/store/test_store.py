"""The SQLite store on a real file: migrations, group commit, paging, search, the change feed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wa_inbox.domain.models import InboundMessage, StatusUpdate, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.policy import Draft
from wa_inbox.store import MessageQuery
from wa_inbox.store.migrations import MIGRATIONS
from wa_inbox.store.sqlite import SqliteStore

ANA = "whatsapp:+5511987654321"
BUSINESS = "whatsapp:+14155238886"


def record(sid: str, kind: WebhookKind = WebhookKind.INBOUND) -> WebhookRecord:
    return WebhookRecord(kind, "/t", Verdict.ACCEPTED, f"MessageSid={sid}", {}, datetime.now(UTC), None, sid)


async def inbound(store: SqliteStore, n: int, body: str = "hello") -> None:
    sid = f"SM{n:032x}"
    await store.ingest_inbound(InboundMessage(sid, ANA, BUSINESS, body), record(sid))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db")
    yield opened
    await opened.close()


async def test_database_is_wal_with_foreign_keys_and_recorded_migrations(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "inbox.db")
    await store.close()
    again = await SqliteStore.open(tmp_path / "inbox.db")  # reopening applies nothing twice
    await again.close()

    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = [name for (name,) in conn.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert names[:3] == ["001_initial", "002_search", "003_templates"]


async def test_concurrent_writes_share_commits(store: SqliteStore) -> None:
    seq_before = store.committed_seq

    await asyncio.gather(*(inbound(store, n) for n in range(200)))

    assert len(await store.thread_page(ANA, limit=500)) == 200
    assert store.committed_seq - seq_before < 200  # group commit: fewer commits than writes


def broken(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("INSERT INTO no_such_table VALUES (1)")


async def test_a_failing_write_fails_alone_in_its_batch(store: SqliteStore) -> None:
    results = await asyncio.gather(
        inbound(store, 1), store._writer.submit(broken), inbound(store, 2), return_exceptions=True
    )

    assert isinstance(results[1], sqlite3.OperationalError)
    assert [m.sid for m in await store.thread_page(ANA)] == [f"SM{1:032x}", f"SM{2:032x}"]


async def test_thread_pages_walk_backwards(store: SqliteStore) -> None:
    for n in range(120):
        await inbound(store, n, f"message {n}")

    newest = await store.thread_page(ANA, limit=50)
    older = await store.thread_page(ANA, before_id=newest[0].id, limit=50)

    assert [m.body for m in newest] == [f"message {n}" for n in range(70, 120)]
    assert [m.body for m in older] == [f"message {n}" for n in range(20, 70)]


async def test_search_ignores_case_and_accents(store: SqliteStore) -> None:
    await inbound(store, 1, "Meu pedido não chegou")
    await inbound(store, 2, "Obrigado!")

    found = await store.search("NAO cheg")

    assert [m.body for m in found] == ["Meu pedido não chegou"]
    assert await store.search('"') == []


async def test_mark_read_clears_unread(store: SqliteStore) -> None:
    await inbound(store, 1)
    await inbound(store, 2)
    assert (await store.list_conversations())[0].unread_count == 2

    assert await store.mark_read(ANA) == 2

    assert (await store.list_conversations())[0].unread_count == 0


async def test_data_version_moves_when_another_process_commits(store: SqliteStore, tmp_path: Path) -> None:
    before = await store.data_version()
    with sqlite3.connect(tmp_path / "inbox.db") as other:
        other.execute("INSERT INTO contacts (address, created_at) VALUES ('whatsapp:+15550000000', 'x')")

    assert await store.data_version() != before


async def test_accepted_send_folds_in_the_placeholder_its_callbacks_made(store: SqliteStore) -> None:
    message_id = await store.queue_draft(Draft(ANA, "hi"), "k1")
    (job,) = await store.claim_unsent(5)
    sid = "SM" + "e" * 32
    await store.ingest_status(StatusUpdate(sid, "delivered", to_addr=ANA), record(sid, WebhookKind.STATUS))

    await store.record_accepted(job.id, sid, "queued", BUSINESS, None)

    message = await store.get_message(sid)
    assert message is not None
    assert (message.id, message.status, message.body) == (message_id, "delivered", "hi")
    assert len(await store.list_messages(MessageQuery())) == 1
