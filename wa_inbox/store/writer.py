"""Group commit: one thread owns the write connection and commits many queued writes at once.

A webhook is acknowledged only after its row is committed with `synchronous=FULL`; one fsync per
request would cap ingest at a few thousand requests a second, so every write waiting when a commit
starts rides in the same transaction (each in its own savepoint, so one failing write fails alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from wa_inbox.store.writes import bump_change_seq

T = TypeVar("T")
Write = Callable[[sqlite3.Connection, int], Any]
"""A write step: gets the connection and the batch's change sequence number."""


class BatchWriter:
    """Owns the write connection; `submit` resolves once the write is durable."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], max_batch: int = 256) -> None:
        self._connect = connect
        self._conn: sqlite3.Connection
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Write, asyncio.Future[Any]]] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wa-inbox-writer")
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[int], None]] = []
        self.committed_seq = 0

    async def start(self) -> None:
        """Open the connection on the writer thread, which alone uses it from then on."""
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, self._connect)
        self._task = asyncio.create_task(self._run(), name="wa-inbox-writer")

    async def stop(self) -> None:
        """Finish what is queued, then close the connection on its own thread."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    def on_commit(self, listener: Callable[[int], None]) -> None:
        """Call `listener(change_seq)` on the event loop after each commit (the in-process change feed)."""
        self._listeners.append(listener)

    async def submit(self, write: Callable[[sqlite3.Connection, int], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((write, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                seq, outcomes = await self._transaction([write for write, _ in batch])
            except Exception as error:  # the transaction failed as a whole: nothing in it is durable
                seq, outcomes = None, [error] * len(batch)
            self._settle(batch, outcomes)
            if seq is not None:
                self._publish(seq)

    async def _transaction(self, writes: list[Write]) -> tuple[int, list[Any]]:
        """Lock and commit on the writer thread; the statements themselves run here, on the loop.

        Waiting for the lock and the commit's fsync release the GIL and belong on a thread. The
        statements are short CPU work on cached pages: run on the thread, they would fight the event
        loop for the GIL at every call, which measured slower than running them here.
        """
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._conn.execute, "BEGIN IMMEDIATE")
        try:
            seq = bump_change_seq(self._conn)
            outcomes = [self._one(write, seq) for write in writes]
            await loop.run_in_executor(self._executor, self._conn.execute, "COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                await loop.run_in_executor(self._executor, self._conn.execute, "ROLLBACK")
            raise
        return seq, outcomes

    def _one(self, write: Write, seq: int) -> Any:
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
            self._queue.task_done()
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
