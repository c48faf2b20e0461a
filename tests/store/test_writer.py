"""The group-committing writer: a failing write fails alone, the rest of its batch commits."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from wa_inbox.store.sqlite import _connect_writer
from wa_inbox.store.writer import BatchWriter, Write


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[BatchWriter]:
    started = BatchWriter(lambda: _connect_writer(tmp_path / "w.db"))
    await started.start()
    yield started
    await started.stop()


def add_contact(address: str) -> Write:
    """A write that adds a contact: addresses are unique, so adding one twice fails."""

    def write(conn: sqlite3.Connection, seq: int) -> int:
        conn.execute("INSERT INTO contacts (address, created_at) VALUES (?, 'now')", (address,))
        return seq

    return write


def contacts(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return [address for (address,) in conn.execute("SELECT address FROM contacts ORDER BY rowid")]


async def test_a_failing_write_fails_alone_and_its_batch_commits(writer: BatchWriter, tmp_path: Path) -> None:
    def half_then_fail(conn: sqlite3.Connection, seq: int) -> None:
        add_contact("half")(conn, seq)
        add_contact("a")(conn, seq)  # 'a' is earlier in the batch: the primary key refuses it

    outcomes = await asyncio.gather(
        writer.submit(add_contact("a")),
        writer.submit(half_then_fail),
        writer.submit(add_contact("b")),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert outcomes[0] == outcomes[2]  # one batch, one change number
    assert contacts(tmp_path) == ["a", "b"]  # nothing of the failed write, not even its first row


async def test_stop_finishes_what_is_queued_then_refuses(tmp_path: Path) -> None:
    writer = BatchWriter(lambda: _connect_writer(tmp_path / "w.db"))
    await writer.start()
    queued = [asyncio.ensure_future(writer.submit(add_contact(str(n)))) for n in range(50)]
    await asyncio.sleep(0)  # every write is queued before the stop begins

    await writer.stop()

    assert all(future.done() and not future.exception() for future in queued)
    assert len(contacts(tmp_path)) == 50
    with pytest.raises(RuntimeError, match="closed"):
        await writer.submit(add_contact("late"))


async def test_a_batch_waits_for_a_lock_held_elsewhere(writer: BatchWriter, tmp_path: Path) -> None:
    """An attached inbox writing in its own process: the batch waits on the thread, the loop runs on."""
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    add_contact("other")(other, 0)
    write = asyncio.ensure_future(writer.submit(add_contact("ours")))

    ticks = 0
    while ticks < 20:  # the event loop is free while the batch waits for the lock
        await asyncio.sleep(0.01)
        ticks += 1
    assert not write.done()
    other.execute("COMMIT")
    other.close()

    await asyncio.wait_for(write, timeout=5)
    assert contacts(tmp_path) == ["other", "ours"]
