"""The writer process: owns the write connection and commits each batch of writes the store sends.

The statements and the commit's fsync run here, on the machine's other core, while the event loop of
the receiver (or the TUI) goes on parsing requests. In the same process they took a fifth of the
receiver's time and, on a thread, fought the loop for the GIL at every statement.

Protocol over one pipe, every message pickled: first this process answers `None` (ready) or the
exception that kept it from opening the database. Then for each batch `[(command, args), ...]` it
answers `(change_seq, outcomes)`, an outcome being the command's return value or the exception it
raised, or `(None, error)` when the transaction as a whole failed and nothing of it is durable.
"""

from __future__ import annotations

import pickle
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from wa_inbox.store.migrations import migrate
from wa_inbox.store.writes import bump_change_seq

BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another process (an attached inbox, `serve`) to release the lock."""
Command = Callable[..., Any]
"""A write: `command(conn, seq, *args)` with `seq` the batch's change sequence number."""
Batch = Sequence[tuple[Command, tuple[Any, ...]]]


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Statement and savepoint journals in memory: on disk, every batch opened, wrote and unlinked a
    # temporary file. They only ever hold the pages one batch changes.
    conn.execute("PRAGMA temp_store = MEMORY")
    migrate(conn)
    return conn


def serve(path: Path, pipe: Connection, sys_path: list[str]) -> None:
    """Run until the store closes its end of the pipe (or its process dies), then close the database.

    Ctrl+C in a terminal and systemd's stop signal the whole group of processes; the store, stopping,
    still commits what is queued, so this process leaves its ending to the store.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.path.extend(entry for entry in sys_path if entry not in sys.path)  # commands are found by name
    try:
        conn = connect(path)
    except Exception as error:
        pipe.send_bytes(_dumps(error))
        return
    pipe.send_bytes(_dumps(None))
    try:
        while True:
            try:
                batch: Batch = pickle.loads(pipe.recv_bytes())
            except EOFError:
                return
            try:
                reply: tuple[int | None, Any] = commit(conn, batch)
            except Exception as error:
                reply = (None, error)
            pipe.send_bytes(_dumps(reply))
    finally:
        conn.close()


def commit(conn: sqlite3.Connection, batch: Batch) -> tuple[int, list[Any]]:
    """One transaction for the whole batch.

    Writes almost never fail, so the batch first runs bare; only when one does fail is it run again
    from the start with a savepoint around each write, so that the failure stays its own.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        seq = bump_change_seq(conn)
        conn.execute("SAVEPOINT batch")
        try:
            outcomes = [command(conn, seq, *args) for command, args in batch]
        except Exception:
            conn.execute("ROLLBACK TO batch")  # undoes the writes, keeps the transaction and its lock
            outcomes = [_isolated(conn, seq, command, args) for command, args in batch]
        conn.execute("RELEASE batch")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return seq, outcomes


def _isolated(conn: sqlite3.Connection, seq: int, command: Command, args: tuple[Any, ...]) -> Any:
    """Run one write in a savepoint: if it fails, its exception is its outcome and nothing of it stays."""
    conn.execute("SAVEPOINT write")
    try:
        result = command(conn, seq, *args)
    except Exception as error:
        conn.execute("ROLLBACK TO write")
        result = error
    conn.execute("RELEASE write")
    return result


def _dumps(reply: Any) -> bytes:
    """Pickled; an exception that would not survive the trip (unpicklable, or not rebuilt from its
    arguments) goes as a `WriteFailed` with its text."""
    try:
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
    except Exception:
        return pickle.dumps(_portable(reply), protocol=pickle.HIGHEST_PROTOCOL)
    return data


def _portable(reply: Any) -> Any:
    if isinstance(reply, BaseException):
        return WriteFailed(f"{type(reply).__name__}: {reply}")
    if isinstance(reply, tuple):
        return tuple(_portable(item) for item in reply)
    if isinstance(reply, list):
        return [_portable(item) for item in reply]
    return reply


class WriteFailed(Exception):
    """A write's exception as text, when the exception itself could not cross the pipe."""
