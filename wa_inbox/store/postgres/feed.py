"""The change feed on PostgreSQL: a position that never skips a commit, and LISTEN/NOTIFY for news.

A change number here is a transaction id: every row the feed reports carries the id of the transaction
that last wrote it (`schema.py`). Ids are handed out when a transaction first writes, and transactions
commit in any order, so "the highest id committed" is not a safe position: transaction 11 may still be
running when 12 has committed. The feed's position is therefore the **horizon**: one below the oldest
transaction id still running (`pg_snapshot_xmin` of a current snapshot), below which every transaction
has ended and no new one can start. A reader asks for rows with `since < change_seq <= horizon`; a row
committed by a transaction above the horizon waits for the next read, and nothing is ever skipped.

The cost: while one writing transaction is open, the feed holds at its id. wa-inbox's transactions last
milliseconds; a session left open in `psql` after a write would hold every inbox's news until it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
from psycopg import AsyncConnection

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.store.errors import StoreError
from wa_inbox.store.postgres import connection
from wa_inbox.store.postgres.schema import CHANGE_CHANNEL

log = logging.getLogger("wa_inbox.store.postgres")

HORIZON_SQL = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1"

RECHECK_SECONDS = 1.0
"""How soon the feed looks again when a notified commit was still above the horizon (an older
transaction was running), or when no notification came at all (a rolled-back writer sends none)."""

RECONNECT_SECONDS = 1.0


async def horizon(conn: AsyncConnection[Any]) -> int:
    """The change number below which everything is committed or rolled back, for good."""
    cursor = await conn.execute(HORIZON_SQL)
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


class Notifications:
    """One LISTEN connection per store: every commit's notification, from any process, to listeners.

    Listeners get the notified change number; the store's `changes()` turns these into "look now".
    If the connection drops it reconnects, and tells listeners once more (a missed notification is
    then caught up by the reader's own horizon read)."""

    def __init__(self, url: DatabaseUrl) -> None:
        self._url = url
        self._listeners: list[Callable[[int], None]] = []
        self._task: asyncio.Task[None] | None = None
        self.newest = 0
        """The highest change number notified so far."""

    def add(self, listener: Callable[[int], None]) -> None:
        self._listeners.append(listener)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    def remove(self, listener: Callable[[int], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        while True:
            try:
                async with await connection.connect(self._url) as conn:
                    await conn.execute(f"LISTEN {CHANGE_CHANNEL}")
                    self._tell(await horizon(conn))  # whatever happened while not listening
                    async for note in conn.notifies():
                        self._tell(_seq_of(note.payload))
            except (psycopg.Error, StoreError) as error:
                log.warning("change feed connection lost (%s); reconnecting", error)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _tell(self, seq: int) -> None:
        self.newest = max(self.newest, seq)
        for listener in list(self._listeners):
            listener(seq)


def _seq_of(payload: str) -> int:
    try:
        return int(json.loads(payload)["seq"])
    except (ValueError, KeyError, TypeError):
        return 0


async def changes(notifications: Notifications, read_horizon: Callable[[], Any]) -> AsyncIterator[None]:
    """Yield whenever the horizon may have moved: at a notification, and again every
    `RECHECK_SECONDS` while a notified change is still above the horizon."""
    woken = asyncio.Event()

    def wake(seq: int) -> None:
        woken.set()

    notifications.add(wake)
    try:
        seen = await read_horizon()
        while True:
            waiting = notifications.newest > seen
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), RECHECK_SECONDS if waiting else None)
            woken.clear()
            now = await read_horizon()
            if now != seen:
                seen = now
                yield
    finally:
        notifications.remove(wake)
