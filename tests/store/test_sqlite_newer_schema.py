"""A database a newer wa-inbox migrated is refused by every way of opening it, and left as it was."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.store import inbound
from wa_inbox.store import NewerSchema, StoreError, open_store, pending_steps, upgrade_in_place
from wa_inbox.store.migrations import MIGRATIONS

FUTURE_STEP = "099_from_a_newer_release"


def newer(path: Path) -> str:
    """A database as a newer release leaves it: every step of ours, one more, and a message; its
    bytes' digest, to show nothing touched it."""

    async def fill() -> None:
        async with open_store(path) as store:
            await inbound(store, 1, "hello")

    asyncio.run(fill())
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE future_things (id INTEGER PRIMARY KEY)")
        for step in (FUTURE_STEP, "098_from_the_release_before"):  # the newest is named
            conn.execute(
                "INSERT INTO migrations (name, applied_at) VALUES (?, '2030-01-01T00:00:00.000Z')", (step,)
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return digest(path)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_sentence(path: Path) -> str:
    return (
        f"The database at {path} was written by a newer wa-inbox (schema step {FUTURE_STEP} unknown to "
        "this release): upgrade wa-inbox, or point --db at another database."
    )


@pytest.mark.parametrize("read_only", [False, True], ids=["writer", "read-only"])
async def test_opening_a_newer_database_is_refused_in_one_sentence(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "inbox.db"
    before = await asyncio.to_thread(newer, path)

    with pytest.raises(NewerSchema) as refused:
        await open_store(path, read_only=read_only)

    assert isinstance(refused.value, StoreError)
    assert str(refused.value) == expected_sentence(path)
    assert digest(path) == before


def test_upgrade_and_pending_steps_refuse_it_too(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    before = newer(path)
    lines: list[str] = []

    with pytest.raises(NewerSchema, match=FUTURE_STEP):
        upgrade_in_place(path, lines.append)
    with pytest.raises(NewerSchema, match=FUTURE_STEP):
        pending_steps(path)

    assert lines == []
    assert digest(path) == before


async def test_pending_steps_reads_an_older_database_without_migrating_it(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    assert pending_steps(path) == [name for name, _ in MIGRATIONS]  # none there yet
    assert not path.exists()
    async with open_store(path):
        pass
    assert pending_steps(path) == []
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("DELETE FROM migrations WHERE name = ?", (MIGRATIONS[-1][0],))

    assert pending_steps(path) == [MIGRATIONS[-1][0]]
    assert pending_steps(path) == [MIGRATIONS[-1][0]]  # still: reading it changed nothing
