"""SQLite's plans for what #16 reads: a period of messages along `messages_by_created`, and the
outbox's depth along the partial index of unsent messages; neither reads the history."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wa_inbox.store import MessageQuery
from wa_inbox.store.sqlite import SqliteStore

DAY = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db")
    yield opened
    await opened.close()


async def plans_of(store: SqliteStore, read: object) -> list[list[str]]:
    """The query plan of each statement `read` (a coroutine on `store`) runs."""
    statements: list[str] = []
    await store._db.set_trace_callback(statements.append)
    await read  # type: ignore[misc]
    await store._db.set_trace_callback(None)
    with closing(sqlite3.connect(store.path)) as conn:
        return [[row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in statements]


@pytest.mark.parametrize(
    "query",
    [
        MessageQuery(created_since=DAY, created_before=DAY + timedelta(days=1)),
        MessageQuery(created_since=DAY, limit=1000, before_id=7),
        MessageQuery(created_before=DAY),
        MessageQuery(created_before=DAY, direction=None, status="read"),
    ],
    ids=["day", "since-next-page", "before", "before-with-status"],
)
async def test_a_period_is_a_range_of_the_time_index_without_a_sort(
    store: SqliteStore, query: MessageQuery
) -> None:
    (plan, *_) = await plans_of(store, store.list_messages(query))

    assert any(step.startswith("SEARCH m USING INDEX messages_by_created (created_at") for step in plan), plan
    assert not [step for step in plan if "TEMP B-TREE" in step or step.startswith("SCAN")], plan


async def test_a_page_of_an_old_period_reads_only_that_page(store: SqliteStore) -> None:
    """100,000 newer messages do not slow down a page from before them: the read stops at the page."""
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO contacts (address, created_at) VALUES ('whatsapp:+1', '')")
        conn.executemany(
            "INSERT INTO messages (direction, address, status, status_rank, created_at, updated_at)"
            " VALUES ('in', 'whatsapp:+1', 'received', 0, ?, ?)",
            (
                ((stamp := (DAY + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")), stamp)
                for n in range(100_000)
            ),
        )
    steps: list[int] = []
    await store._db.set_progress_handler(lambda: steps.append(1), 1000)
    page = await store.list_messages(MessageQuery(created_before=DAY + timedelta(seconds=60), limit=10))
    await store._db.set_progress_handler(None, 1000)

    assert [m.created_at for m in page] == [DAY + timedelta(seconds=n) for n in range(59, 49, -1)]
    assert len(steps) < 20  # a few thousand virtual machine steps, not a pass over 100,000 rows


async def test_the_outbox_depth_reads_only_unsent_messages(store: SqliteStore) -> None:
    plans = await plans_of(store, store.outbox_depth())

    assert len(plans) == 2
    for plan in plans:
        assert any("USING" in step and "INDEX messages_unsent" in step for step in plan), plan
        assert not [step for step in plan if step.startswith("SCAN")], plan
