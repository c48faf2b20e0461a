"""The writer process: owns the write connection and commits each batch of writes the store sends.

The statements and the commit's fsync run here, on the machine's other core, while the event loop of
the receiver (or the TUI) goes on parsing requests. In the same process they took a fifth of the
receiver's time and, on a thread, fought the loop for the GIL at every statement.

Protocol over one pipe, every message pickled: first this process answers `None` (ready) or the
exception that kept it from opening the database. Then for each batch `[(name, now, args), ...]` it
answers `(change_seq, outcomes)`, an outcome being the command's return value or the exception it
raised, or `(None, error)` when the transaction as a whole failed and nothing of it is durable.

`name` is a registered command's (`tx.COMMANDS`), `now` the write's time as the parent process's
clock gave it when the write was submitted, `args` the rest of the command's arguments: each write
runs as `COMMANDS[name](Tx(conn, seq, now), *args)`, `seq` being the batch's change number. This
module imports the store's command modules, so the registry here holds every command the store
submits; the parent names any other module that registered one (tests do), imported at start.
"""

from __future__ import annotations

import importlib
import pickle
import signal
import sqlite3
import sys
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# The modules that register the store's commands: imported here, so that the registry is complete
# in the writer process (and in the fork server, which preloads this module).
from wa_inbox.store import commands, lease, team_writes, templates, webhook_log, writes  # noqa: F401
from wa_inbox.store.migrations import Report, migrate
from wa_inbox.store.tx import COMMANDS, Tx

BUSY_TIMEOUT_MS = 5000
"""How long a write waits for another process (an attached inbox, `serve`) to release the lock."""
Write = tuple[str, str, tuple[Any, ...]]
"""One write of a batch: (command name, its `now`, the command's other arguments)."""
Batch = Sequence[Write]


def connect(path: Path, report: Report | None = None) -> sqlite3.Connection:
    """The write connection, on the newest schema (a long upgrade says how it goes to `report`)."""
    conn = sqlite3.connect(path, isolation_level=None)
    if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
        # A new database gives free pages back on demand (`wa-inbox db vacuum`, in short writes):
        # SQLite takes this only before the first table exists.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Statement and savepoint journals in memory: on disk, every batch opened, wrote and unlinked a
    # temporary file. They only ever hold the pages one batch changes.
    conn.execute("PRAGMA temp_store = MEMORY")
    migrate(conn, report=report)
    return conn


def serve(path: Path, pipe: Connection, sys_path: list[str], command_modules: Sequence[str] = ()) -> None:
    """Run until the store closes its end of the pipe (or its process dies), then close the database.

    `command_modules` are imported first (with the parent's `sys_path`), so that the commands they
    register are found by name here too.

    Ctrl+C in a terminal and systemd's stop signal the whole group of processes; the store, stopping,
    still commits what is queued, so this process leaves its ending to the store.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.path.extend(entry for entry in sys_path if entry not in sys.path)
    try:
        for module in command_modules:
            importlib.import_module(module)
        conn = connect(path, report=_to_stderr)
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
            outcomes = [COMMANDS[name](Tx(conn, seq, now), *args) for name, now, args in batch]
        except Exception:
            conn.execute("ROLLBACK TO batch")  # undoes the writes, keeps the transaction and its lock
            outcomes = [_isolated(Tx(conn, seq, now), name, args) for name, now, args in batch]
        conn.execute("RELEASE batch")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return seq, outcomes


def bump_change_seq(conn: sqlite3.Connection) -> int:
    """One sequence number per committed batch: readers ask for what changed since the last they saw."""
    (seq,) = conn.execute(
        "UPDATE meta SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq"
    ).fetchone()
    return int(seq)


def _isolated(tx: Tx, name: str, args: tuple[Any, ...]) -> Any:
    """Run one write in a savepoint: if it fails, its exception is its outcome and nothing of it stays."""
    conn = tx.conn
    conn.execute("SAVEPOINT write")
    try:
        command = COMMANDS.get(name)
        if command is None:
            raise LookupError(
                f"No write command {name!r} in the writer process: it was registered in `__main__`, or "
                "in a module first imported after the writer process started."
            )
        result = command(tx, *args)
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


def _to_stderr(line: str) -> None:
    """A long upgrade, opened by `serve` or a CLI command, reports on the terminal (or the journal)."""
    print(f"wa-inbox: {line}", file=sys.stderr, flush=True)


class WriteFailed(Exception):
    """A write's exception as text, when the exception itself could not cross the pipe."""
