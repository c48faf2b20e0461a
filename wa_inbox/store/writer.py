"""Group commit: writes queue here and go to the writer process (`committer`) a batch at a time.

A webhook is acknowledged only after its row is committed with `synchronous=FULL`; one fsync per
request would cap ingest at a few thousand requests a second, so every write waiting when a batch
leaves rides in the same transaction (and one failing write fails alone: see `committer.commit`).
The event loop never blocks on the database: it pickles a batch into the pipe and reads the answer
when the pipe is readable. A write is a registered command (see `tx`), sent by name with its time.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import multiprocessing.forkserver
import pickle
import sys
import weakref
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from wa_inbox.store import committer
from wa_inbox.store.errors import StoreError
from wa_inbox.store.tx import COMMANDS

T = TypeVar("T")
STOP_TIMEOUT_SECONDS = 30.0


class WriterGone(StoreError):
    """The writer process ended while a batch was with it: that batch's outcome is unknown."""


_open_pipes: weakref.WeakSet[Connection] = weakref.WeakSet()


def _context() -> multiprocessing.context.ForkServerContext:
    """Forkserver: a clean child (no copy of the parent's threads), and cheap after the first."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([committer.__name__])
    return context


def start_fork_server() -> None:
    """Start the process writer processes are forked from, before Textual takes over `sys.stderr`.

    Its first start hands our stderr on by file number; Textual's stand-in has none, and the start
    then fails. Once it runs, later stores start their writer processes without it.
    """
    _context()
    multiprocessing.forkserver.ensure_running()


def _hang_up_all() -> None:
    """At exit, end the writer processes of stores never closed (a crash, an interrupt).

    They ignore stop signals and end when their pipe closes; multiprocessing's own exit handler waits
    for them, and runs after this one (exit handlers run last registered, first run).
    """
    for pipe in list(_open_pipes):
        pipe.close()


class BatchWriter:
    """Queues writes; `submit` resolves once the write is durable, with the command's return value."""

    def __init__(self, path: Path, max_batch: int = 256) -> None:
        self._path = path
        self._max_batch = max_batch
        self._pending: deque[tuple[str, str, tuple[Any, ...], asyncio.Future[Any]]] = deque()
        self._arrived = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop
        self._process: BaseProcess | None = None
        self._pipe: Connection | None = None
        self._reply: asyncio.Future[bytes] | None = None
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[int], None]] = []
        self._batch_listeners: list[Callable[[int], None]] = []
        self.committed_seq = 0

    async def start(self) -> None:
        """Start the writer process; it opens (and migrates) the database before this returns."""
        self._loop = asyncio.get_running_loop()  # kept: asking for it costs a system call each time
        await self._spawn()
        self._task = asyncio.create_task(self._run(), name="wa-inbox-writer")

    async def stop(self) -> None:
        """Finish what is queued, then let the writer process close the database and end."""
        if self._task is not None:
            self._stopping = True
            self._arrived.set()
            await self._task
        self._hang_up()
        if self._process is not None:
            await asyncio.to_thread(self._process.join, STOP_TIMEOUT_SECONDS)
            if self._process.is_alive():
                self._process.kill()

    def on_commit(self, listener: Callable[[int], None]) -> None:
        """Call `listener(change_seq)` on the event loop after each commit (the in-process change feed)."""
        self._listeners.append(listener)

    def on_batch(self, listener: Callable[[int], None]) -> None:
        """Call `listener(writes)` on the event loop after each commit, with how many writes it carried:
        counted here, in the process that queued them, not in the writer process."""
        self._batch_listeners.append(listener)

    @property
    def process_id(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def submit(self, command: Callable[..., T], now: str, *args: Any) -> T:
        """Run `command(Tx(conn, seq, now), *args)` in the writer process, `now` being the write's
        time as `codec.ts` formats it; TypeError for a function not registered with `@command`."""
        name = getattr(command, "__name__", None)
        if name is None or COMMANDS.get(name) is not command:
            raise TypeError(
                f"{command!r} is not a registered write command: the store submits only module-level "
                "functions decorated with `@command` (wa_inbox.store.tx), taking `tx` first."
            )
        if self._stopping:
            raise RuntimeError("the store is closed")
        if self._process is None:
            raise StoreError("This store was opened read-only: it cannot write.")
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.append((name, now, args, future))
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
                seq, outcomes = await self._commit([(name, now, args) for name, now, args, _ in batch])
            except Exception as error:  # the transaction failed as a whole: nothing in it is durable
                seq, outcomes = None, [error] * len(batch)
            for (_, _, _, future), outcome in zip(batch, outcomes, strict=True):
                if future.cancelled():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            if seq is not None:
                self._publish(seq, len(batch))

    async def _commit(self, batch: committer.Batch) -> tuple[int, list[Any]]:
        if self._pipe is None:  # the process ended after an earlier batch: start a new one
            await self._spawn()
        assert self._pipe is not None
        payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._pipe.send_bytes(payload)
        except OSError:
            self._hang_up()
            raise WriterGone(
                "the database writer process had ended; nothing of this batch was sent"
            ) from None
        seq, outcomes = pickle.loads(await self._answer())
        if seq is None:
            raise outcomes
        return seq, outcomes

    async def _spawn(self) -> None:
        context = _context()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=committer.serve,
            args=(self._path, theirs, sys.path, _command_modules()),
            name="wa-inbox-writer",
            daemon=True,
        )
        await asyncio.to_thread(process.start)  # the first start launches the fork server
        theirs.close()
        if not _open_pipes:
            atexit.unregister(_hang_up_all)
            atexit.register(_hang_up_all)  # after multiprocessing's, which Process.start registered
        _open_pipes.add(ours)
        self._process, self._pipe = process, ours
        self._loop.add_reader(ours.fileno(), self._on_readable)
        failure = pickle.loads(await self._answer())
        if failure is not None:
            self._hang_up()
            raise failure

    def _answer(self) -> asyncio.Future[bytes]:
        self._reply = self._loop.create_future()
        return self._reply

    def _on_readable(self) -> None:
        reply, pipe = self._reply, self._pipe
        assert pipe is not None
        try:
            data = pipe.recv_bytes()
        except (EOFError, OSError):
            self._hang_up()
            if reply is not None and not reply.done():
                reply.set_exception(WriterGone("the database writer process ended during a commit"))
            return
        if reply is not None and not reply.done():
            reply.set_result(data)

    def _hang_up(self) -> None:
        if self._pipe is not None:
            self._loop.remove_reader(self._pipe.fileno())
            self._pipe.close()
            self._pipe = None

    def _publish(self, seq: int, writes: int) -> None:
        self.committed_seq = seq
        for listener in self._listeners:
            listener(seq)
        for batch_listener in self._batch_listeners:
            batch_listener(writes)


def _command_modules() -> list[str]:
    """The modules that registered commands in this process, for the writer process to import too
    (the store's own it imports anyway; this brings the others, a test's say). `__main__` is not the
    same module there."""
    return sorted({command.__module__ for command in COMMANDS.values()} - {"__main__"})
