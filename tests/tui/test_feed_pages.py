"""An inbox that was away (its event loop stalled: a laptop asleep, a terminal held) catches up on
everything committed meanwhile, however much: the change feed gives it a page at a time."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from tests.support.tui import ZOE, inbound, offline_backend, running_app, settled
from wa_inbox.store import open_store
from wa_inbox.tui.widgets.thread_view import ThreadView

BURST = 1100
"""More messages than one read of the feed gives (about 1,000)."""


def another_process_writes_a_burst(path: Path) -> None:
    """Zoe's BURST messages, committed by another store (its own writer process) on a thread with its
    own event loop, so that the caller's loop, and the inbox on it, stands still meanwhile."""

    async def write() -> None:
        at = datetime.now(UTC)
        async with open_store(path) as store:
            await asyncio.gather(*(inbound(store, ZOE, f"burst {n}", at, name="Zoe") for n in range(BURST)))

    asyncio.run(write())


async def test_an_inbox_that_was_away_shows_every_message_of_a_burst_bigger_than_a_page(
    tmp_path: Path,
) -> None:
    db = tmp_path / "inbox.db"
    async with open_store(db) as store:
        await inbound(store, ZOE, "before", datetime.now(UTC), name="Zoe")
    async with running_app(offline_backend(db)) as (app, pilot):
        await settled(pilot)  # Zoe's thread on screen, the feed followed
        seen = app.inbox._seq
        away = threading.Thread(target=another_process_writes_a_burst, args=(db,))
        away.start()
        away.join()  # blocks this event loop, the inbox's: it reads nothing until the burst is in
        assert app.inbox.services is not None
        assert (await app.inbox.services.store.changes_since(seen)).more  # more than a page waits for it

        await settled(pilot, seconds=20)

        bodies = [m.body for m in app.inbox.query_one(ThreadView).messages]
    assert sorted(bodies) == sorted(["before", *(f"burst {n}" for n in range(BURST))])
