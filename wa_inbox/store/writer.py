"""Group commit: one thread owns the write connection and commits many queued writes at once.

A webhook is acknowledged only after its row is committed with `synchronous=FULL`; one fsync per
request would cap ingest at a few thousand requests a second, so every write waiting when a commit
starts rides in the same transaction (and one failing write fails alone: see `_transaction`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from wa_inbox.store.writes import bump_change_seq

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
"""How long the store waits for another process (an attached inbox, `serve`) to release a lock."""
Write = Callable[[sqlite3.Connection, int], Any]
"""A write step: gets the connection and the batch's change sequence number."""


class BatchWriter:
    """Owns the write connection; `submit` resolves once the write is durable."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], max_batch: int = 256) -> None:
        self._connect = connect
        self._conn: sqlite3.Connection
        self._loop: asyncio.AbstractEventLoop
        self._max_batch = max_batch
        self._pending: deque[tuple[Write, asyncio.Future[Any]]] = deque()
        self._arrived = asyncio.Event()
        self._stopping = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wa-inbox-writer")
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[int], None]] = []
        self.committed_seq = 0

    async def start(self) -> None:
        """Open the connection on the writer thread, which alone uses it from then on."""
        self._loop = loop = asyncio.get_running_loop()  # kept: asking for it costs a system call each time
        self._conn = await loop.run_in_executor(self._executor, self._connect)
        self._conn.execute("PRAGMA busy_timeout = 0")  # on the loop, never wait: see `_begin`
        self._task = asyncio.create_task(self._run(), name="wa-inbox-writer")

    async def stop(self) -> None:
        """Finish what is queued, then close the connection on its own thread."""
        if self._task is not None:
            self._stopping = True
            self._arrived.set()
            await self._task
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    def on_commit(self, listener: Callable[[int], None]) -> None:
        """Call `listener(change_seq)` on the event loop after each commit (the in-process change feed)."""
        self._listeners.append(listener)

    async def submit(self, write: Callable[[sqlite3.Connection, int], T]) -> T:
        if self._stopping:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.append((write, future))
        self._arrived.set()
        return await future

    async def _run(self) -> None:
        pending = self._pending
        while pending or not self._stopping:
            if not pending:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            batch = [pending.popleft() for _ in range(min(len(pending), self._max_batch))]
            try:
                seq, outcomes = await self._transaction([write for write, _ in batch])
            except Exception as error:  # the transaction failed as a whole: nothing in it is durable
                seq, outcomes = None, [error] * len(batch)
            self._settle(batch, outcomes)
            if seq is not None:
                self._publish(seq)

    async def _transaction(self, writes: list[Write]) -> tuple[int, list[Any]]:
        """Commit on the writer thread; the lock (see `_begin`) and the statements are taken here.

        The commit's fsync releases the GIL and belongs on a thread. The statements are short CPU
        work on cached pages: run on the thread, they would fight the event loop for the GIL at
        every call, which measured slower than running them here.

        Writes almost never fail, so the batch first runs bare; only when one does fail is it run
        again from the start with a savepoint around each write, so that the failure stays its own.
        """
        loop = self._loop
        await self._begin()
        try:
            seq = bump_change_seq(self._conn)
            outcomes = self._run_batch(writes, seq)
            await loop.run_in_executor(self._executor, self._conn.execute, "COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                await loop.run_in_executor(self._executor, self._conn.execute, "ROLLBACK")
            raise
        return seq, outcomes

    async def _begin(self) -> None:
        """Take the write lock here when it is free, as it nearly always is; wait for it on the thread.

        A call handed to the thread comes back only when the thread gets the GIL again, which under
        load takes up to the interpreter's switch interval (5 ms): as long as a whole batch's statements.
        """
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            await self._loop.run_in_executor(self._executor, self._begin_waiting)

    def _begin_waiting(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    def _run_batch(self, writes: list[Write], seq: int) -> list[Any]:
        conn = self._conn
        conn.execute("SAVEPOINT batch")
        try:
            outcomes = [write(conn, seq) for write in writes]
        except Exception:
            conn.execute("ROLLBACK TO batch")  # undoes the writes, keeps the transaction and its lock
            outcomes = [self._isolated(write, seq) for write in writes]
        conn.execute("RELEASE batch")
        return outcomes

    def _isolated(self, write: Write, seq: int) -> Any:
        """Run one write in a savepoint: if it fails, its exception is its outcome and nothing of it stays."""
        conn = self._conn
        conn.execute("SAVEPOINT write")
        try:
            result = write(conn, seq)
        except Exception as error:
            conn.execute("ROLLBACK TO write")
            conn.execute("RELEASE write")
            return error
        conn.execute("RELEASE write")
        return result

    def _settle(self, batch: list[tuple[Write, asyncio.Future[Any]]], outcomes: list[Any]) -> None:
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.cancelled():
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _publish(self, seq: int) -> None:
        self.committed_seq = seq
        for listener in self._listeners:
            listener(seq)
