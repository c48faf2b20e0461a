"""SQLite's side of `stats` and vacuuming: its files' sizes, new files made incremental, and the one
full VACUUM a database made before that needs."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.store.test_contract_stats_vacuum import fill, vacuum_steps
from wa_inbox.store import StoreError, open_store


def pragma(path: Path, name: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


async def test_stats_give_the_files_sizes(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    async with open_store(path) as store:
        await fill(store, 50)
        stats = await store.stats()
        database, wal = path.stat().st_size, path.with_name("inbox.db-wal").stat().st_size

    assert stats.bytes_on_disk == database
    assert stats.log_bytes == wal > 0
    assert stats.page_size == pragma(path, "page_size")
    assert pragma(path, "auto_vacuum") == 2  # new databases are incremental


async def test_vacuum_steps_give_free_pages_back_while_writes_commit(tmp_path: Path) -> None:
    """SQLite frees pages step by step: the storage shrinks by the free pages `stats` reported."""
    async with open_store(tmp_path / "inbox.db") as store:
        await fill(store, 600)
        await store.prune_webhook_log(datetime(2025, 6, 1, tzinfo=UTC))
        before = await store.stats()
        steps, _ = await asyncio.gather(vacuum_steps(store), fill(store, 100, first=1000))
        after = await store.stats()

    assert before.free_pages > 1000  # 600 requests of 8 kB
    assert len(steps) > 10 and steps == sorted(steps, reverse=True) and steps[-1] == 0
    assert after.free_pages == 0
    # the new writes took some of the space back (100 requests of 8 kB): at least half is given back
    assert after.bytes_on_disk < before.bytes_on_disk - before.free_pages * before.page_size // 2
    assert after.rows["messages"] == 700


async def test_a_database_made_before_needs_one_full_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    with closing(sqlite3.connect(path)) as conn:  # a table before the store: auto_vacuum stays NONE
        conn.execute("CREATE TABLE made_before (x)")
    async with open_store(path) as store:
        await fill(store, 300)
        await store.prune_webhook_log(datetime(2025, 6, 1, tzinfo=UTC))
        before = await store.stats()
        with pytest.raises(StoreError, match="--full"):
            await store.vacuum_step(10)
        await store.vacuum_full()
        after = await store.stats()
        await fill(store, 300, first=1000)
        await store.prune_webhook_log(datetime(2025, 6, 1, tzinfo=UTC))
        assert await store.vacuum_step(100_000) == 0  # online from now on

    assert not before.vacuums_online and before.free_pages > 500
    assert after.vacuums_online and after.free_pages == 0 and after.log_bytes == 0
    assert after.bytes_on_disk < before.bytes_on_disk - before.free_pages * before.page_size // 2
    assert after.rows["messages"] == 300


async def test_a_read_only_store_does_not_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    async with open_store(path):
        pass
    async with open_store(path, read_only=True) as store:
        with pytest.raises(StoreError, match="read-only"):
            await store.vacuum_full()
        with pytest.raises(StoreError, match="read-only"):
            await store.vacuum_step(10)
