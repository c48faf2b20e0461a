"""The change feed: every commit, this process's or another's, reaches a reader, which then reads it;
and how a store is opened and closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.store.conftest import Backend
from tests.support.store import inbound
from wa_inbox.store import Store, StoreError, open_store

ZOE = "whatsapp:+14155550100"
BEN = "whatsapp:+14155550123"


async def next_change(feed: AsyncIterator[None]) -> None:
    await asyncio.wait_for(anext(feed), 2.0)


async def test_a_commit_of_this_store_and_of_another_on_the_same_database_reach_the_feed(
    backend: Backend, store: Store
) -> None:
    feed = store.changes()
    seen = (await store.changes_since(-1)).seq
    waiting = asyncio.ensure_future(next_change(feed))
    await inbound(store, 1, "mine", ZOE)
    await waiting
    changes = await store.changes_since(seen)
    assert [m.body for m in changes.messages] == ["mine"]

    other = await backend.open()  # another process on the same database
    try:
        waiting = asyncio.ensure_future(next_change(feed))
        await inbound(other, 2, "theirs", BEN)
        await waiting
    finally:
        await other.close()
    later = await store.changes_since(changes.seq)
    assert [m.body for m in later.messages] == ["theirs"]


async def test_the_feed_is_quiet_when_nothing_is_committed(store: Store) -> None:
    feed = store.changes()
    waiting = asyncio.ensure_future(anext(feed))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    waiting.cancel()


async def test_a_store_opened_in_a_with_block_is_closed_after_it(tmp_path: Path) -> None:
    async with open_store(tmp_path / "inbox.db") as store:
        await inbound(store, 1, "kept")
    with pytest.raises(RuntimeError):  # closed: writes are refused
        await inbound(store, 2, "too late")
    async with open_store(str(tmp_path / "inbox.db"), read_only=True) as again:
        assert [m.body for m in await again.thread_page("whatsapp:+5511987654321")] == ["kept"]


@pytest.mark.parametrize("url", ["postgresql://agent@db.example/inbox", Path("postgresql://db/inbox")])
async def test_a_database_url_is_one_sentence_until_a_server_backend_exists(url: str | Path) -> None:
    with pytest.raises(StoreError, match=r"^wa-inbox cannot use a postgresql:// database yet"):
        await open_store(url)
