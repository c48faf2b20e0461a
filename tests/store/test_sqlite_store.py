"""The SQLite store itself, on a real file: its journal and recorded migrations, group commit, a failing
write in a batch, `data_version`, query plans, batched pruning. What every backend promises is in
`test_contract_*.py`."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store.write_commands import broken
from tests.support.store import ANA, inbound
from wa_inbox.domain.models import MediaFile, MediaFileKind
from wa_inbox.store.codec import ts
from wa_inbox.store.migrations import MIGRATIONS
from wa_inbox.store.reads import _MESSAGE_COLUMNS, _MESSAGES
from wa_inbox.store.sqlite import SqliteStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db")
    yield opened
    await opened.close()


def rows(store: SqliteStore, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(store.path)) as conn:
        return conn.execute(sql).fetchall()


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


async def test_a_failing_write_fails_alone_in_its_batch(store: SqliteStore) -> None:
    results = await asyncio.gather(
        inbound(store, 1), store._writer.submit(broken, ts(NOW)), inbound(store, 2), return_exceptions=True
    )

    assert isinstance(results[1], sqlite3.OperationalError)
    assert [m.sid for m in await store.thread_page(ANA)] == [f"SM{1:032x}", f"SM{2:032x}"]


async def test_data_version_moves_when_another_process_commits(store: SqliteStore, tmp_path: Path) -> None:
    before = await store.data_version()
    with sqlite3.connect(tmp_path / "inbox.db") as other:
        other.execute("INSERT INTO contacts (address, created_at) VALUES ('whatsapp:+15550000000', 'x')")

    assert await store.data_version() != before


@pytest.mark.parametrize(
    "where",
    [
        "WHERE m.sid = ?",
        "WHERE m.id = ?",
        "WHERE m.address = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?",
        "WHERE m.change_seq > ? ORDER BY m.change_seq, m.id LIMIT ?",
    ],
)
async def test_the_lookups_use_indexes(tmp_path: Path, store: SqliteStore, where: str) -> None:
    sql = f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} {where}"
    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [1] * sql.count("?"))]

    assert "SEARCH r USING INDEX sqlite_autoindex_messages_1 (sid=?) LEFT-JOIN" in plan
    assert "SEARCH t USING INDEX sqlite_autoindex_templates_1 (sid=?) LEFT-JOIN" in plan
    assert not [step for step in plan if step.startswith("SCAN")]


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


async def test_last_webhook_reads_the_newest_row_not_the_table(store: SqliteStore) -> None:
    assert await store.last_webhook_at() is None
    with sqlite3.connect(store.path) as conn:
        conn.executemany(
            "INSERT INTO webhook_log (received_at, kind, path, verdict, body, headers)"
            " VALUES (?, 'status', '/twilio/status', 'forbidden', ?, '{}')",
            ((ts(NOW - timedelta(seconds=n)), "x" * 200) for n in range(300_000, 0, -1)),
        )
    with sqlite3.connect(store.path) as conn:
        plan = " ".join(
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT received_at FROM webhook_log ORDER BY id DESC LIMIT 1"
            )
        )
    assert "TEMP B-TREE" not in plan  # walks the rowid backwards: no sort, no full read

    started = time.perf_counter()
    for _ in range(20):
        last = await store.last_webhook_at()
    per_read = (time.perf_counter() - started) / 20

    assert last == NOW - timedelta(seconds=1)  # the demo's seeded row does not count
    assert per_read < 0.005


@pytest.mark.parametrize("cursor", ["none", "inbound", "hosted"])
async def test_a_page_of_expired_media_reads_along_the_partial_indexes(
    store: SqliteStore, cursor: str
) -> None:
    after = {
        "none": None,
        "inbound": MediaFile(MediaFileKind.INBOUND, "7", "/x", NOW),
        "hosted": MediaFile(MediaFileKind.HOSTED, "f" * 32, "/y", NOW),
    }[cursor]
    statements: list[str] = []
    await store._db.set_trace_callback(statements.append)
    await store.expired_media(NOW, 500, after)
    await store._db.set_trace_callback(None)
    (sql,) = [s for s in statements if "media_files" in s]

    with closing(sqlite3.connect(store.path)) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]

    assert any(step.startswith("SEARCH media USING INDEX media_on_disk (fetched_at") for step in plan), plan
    assert any(step.startswith("SEARCH media_files USING INDEX media_files_on_disk (") for step in plan), plan
    assert not [step for step in plan if step.startswith("SCAN media")]
