"""The group-committing writer and its process: a failing write fails alone, the rest of its batch
commits; the loop never waits for the database; a writer process that dies is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.store.write_commands import add_contact, half_then_fail, now_and_seq, pid, raise_unpicklable
from wa_inbox.store.codec import ts
from wa_inbox.store.tx import Tx
from wa_inbox.store.writer import BatchWriter, WriterGone

NOW = ts(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[BatchWriter]:
    started = BatchWriter(tmp_path / "w.db")
    await started.start()
    yield started
    await started.stop()


def ignores(pid: int, signum: int) -> bool:
    """The process ignores `signum`, by its mask in /proc (Linux)."""
    mask = next(
        line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("SigIgn")
    )
    return bool(int(mask.split()[1], 16) >> (signum - 1) & 1)


def running(pid: int) -> bool:
    """The process exists and is not a zombie (its state in /proc, Linux)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


async def gone(pid: int) -> None:
    """Until the process has died."""
    async with asyncio.timeout(5):
        while running(pid):  # noqa: ASYNC110 - another process's death has no event to await here
            await asyncio.sleep(0.005)


def contacts(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "w.db") as conn:
        return [address for (address,) in conn.execute("SELECT address FROM contacts ORDER BY rowid")]


async def test_a_failing_write_fails_alone_and_its_batch_commits(writer: BatchWriter, tmp_path: Path) -> None:
    outcomes = await asyncio.gather(
        writer.submit(add_contact, NOW, "a"),
        writer.submit(half_then_fail, NOW),
        writer.submit(add_contact, NOW, "b"),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert outcomes[0] == outcomes[2]  # one batch, one change number
    assert contacts(tmp_path) == ["a", "b"]  # nothing of the failed write, not even its first row


async def test_an_exception_that_cannot_cross_the_pipe_arrives_as_text(writer: BatchWriter) -> None:
    with pytest.raises(Exception, match="Unpicklable: seven"):
        await writer.submit(raise_unpicklable, NOW)
    assert await writer.submit(add_contact, NOW, "after") > 0  # the writer goes on


async def test_writes_run_in_the_writer_process(writer: BatchWriter) -> None:
    assert await writer.submit(pid, NOW) == writer.process_id != os.getpid()


async def test_each_write_gets_its_own_time_and_its_batch_s_change_number(writer: BatchWriter) -> None:
    later = ts(datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=1))
    first, second = await asyncio.gather(
        writer.submit(now_and_seq, NOW, "one"), writer.submit(now_and_seq, later, "two")
    )

    assert (first[0], first[2]) == (NOW, "one")
    assert (second[0], second[2]) == (later, "two")
    assert first[1] == second[1] == writer.committed_seq  # one batch


def not_a_command(tx: Tx) -> None:
    """Takes `tx` first, but was never registered."""


async def test_only_registered_commands_are_submitted(writer: BatchWriter, tmp_path: Path) -> None:
    def add_contact(tx: Tx, address: str) -> int:  # the name of a registered command, not that command
        return 0

    for function in (not_a_command, add_contact, lambda tx: None, print):
        with pytest.raises(TypeError, match="is not a registered write command"):
            await writer.submit(function, NOW)
    assert contacts(tmp_path) == []


async def test_stop_finishes_what_is_queued_then_refuses(tmp_path: Path) -> None:
    writer = BatchWriter(tmp_path / "w.db")
    await writer.start()
    queued = [asyncio.ensure_future(writer.submit(add_contact, NOW, str(n))) for n in range(50)]
    await asyncio.sleep(0)  # every write is queued before the stop begins

    await writer.stop()

    assert all(future.done() and not future.exception() for future in queued)
    assert len(contacts(tmp_path)) == 50
    with pytest.raises(RuntimeError, match="closed"):
        await writer.submit(add_contact, NOW, "late")


async def test_a_batch_waits_for_a_lock_held_elsewhere(writer: BatchWriter, tmp_path: Path) -> None:
    """An attached inbox writing in its own process: the batch waits, the event loop runs on."""
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    add_contact(Tx(other, 0, NOW), "other")
    write = asyncio.ensure_future(writer.submit(add_contact, NOW, "ours"))

    ticks = 0
    while ticks < 20:  # the event loop is free while the batch waits for the lock
        await asyncio.sleep(0.01)
        ticks += 1
    assert not write.done()
    other.execute("COMMIT")
    other.close()

    await asyncio.wait_for(write, timeout=5)
    assert contacts(tmp_path) == ["other", "ours"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_the_writer_process_outlives_a_stop_signal(writer: BatchWriter, signum: int) -> None:
    """Ctrl+C and systemd's stop reach every process of the group: the queue must still be committed."""
    first = writer.process_id
    assert first is not None and ignores(first, signum)  # so the kill below is discarded at once
    os.kill(first, signum)

    assert await writer.submit(add_contact, NOW, "after the signal") > 0
    assert writer.process_id == first


async def test_a_killed_writer_process_is_replaced(writer: BatchWriter, tmp_path: Path) -> None:
    """Killed between batches, or during one: that batch fails (its outcome unknown), the next commits."""
    first = writer.process_id
    assert first is not None
    os.kill(first, signal.SIGKILL)
    await gone(first)
    async with asyncio.timeout(5):
        while writer._pipe is not None:  # noqa: ASYNC110 - until the writer has read the pipe's end
            await asyncio.sleep(0.005)

    assert await writer.submit(add_contact, NOW, "after a kill") > 0
    assert writer.process_id not in (None, first)

    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the batch in the process while we kill it
    during = asyncio.ensure_future(writer.submit(add_contact, NOW, "lost"))
    while writer._reply is None or writer._reply.done():  # noqa: ASYNC110 - until the batch is with it
        await asyncio.sleep(0.005)
    os.kill(writer.process_id or 0, signal.SIGKILL)
    with pytest.raises(WriterGone):
        await asyncio.wait_for(during, timeout=5)
    other.execute("ROLLBACK")
    other.close()

    assert await writer.submit(add_contact, NOW, "and again") > 0
    assert contacts(tmp_path) == ["after a kill", "and again"]


def test_a_program_that_never_closes_its_store_still_exits(tmp_path: Path) -> None:
    """The writer process ignores stop signals, so it must hear of its parent's exit some other way."""
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from wa_inbox.store.sqlite import SqliteStore\n"
        "asyncio.run(SqliteStore.open(Path(sys.argv[1])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "w.db")], timeout=60, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr


STORE_UNDER_TEXTUAL = """
import asyncio, sys
from pathlib import Path
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.store.writer import start_fork_server
if sys.argv[2] == "started-first":
    start_fork_server()  # as `wa-inbox` does before the app runs

class Captured:  # Textual's stand-in for sys.stderr while an app runs: no file number
    def write(self, text): return len(text)
    def flush(self): pass
    def fileno(self): return -1

sys.stderr = Captured()
async def main():
    store = await SqliteStore.open(Path(sys.argv[1]))
    await store.close()
asyncio.run(main())
print("opened")
"""


@pytest.mark.parametrize("start", ["started-first", "not-started"])
def test_stores_open_inside_a_textual_app_once_the_fork_server_runs(tmp_path: Path, start: str) -> None:
    command = [sys.executable, "-c", STORE_UNDER_TEXTUAL, str(tmp_path / "w.db"), start]
    done = subprocess.run(command, timeout=60, capture_output=True, text=True, check=False)
    assert (done.stdout.strip() == "opened") is (start == "started-first"), done.stdout
