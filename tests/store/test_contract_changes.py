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


async def test_a_database_server_that_cannot_be_reached_is_one_sentence_without_the_password() -> None:
    with pytest.raises(StoreError) as refused:
        await open_store("postgresql://agent:s3cret@127.0.0.1:1/inbox")  # nobody listens on port 1
    sentence = str(refused.value)
    assert sentence.startswith("The database postgresql://agent:***@127.0.0.1:1/inbox cannot be reached (")
    assert "s3cret" not in sentence and "\n" not in sentence


async def test_a_url_made_into_a_path_is_one_sentence() -> None:
    """`Path("postgresql://db/inbox")` keeps only `postgresql:/db/inbox`: no file, no server."""
    with pytest.raises(StoreError, match=r"^wa-inbox cannot use a postgresql: database: point WA_INBOX_DB"):
        await open_store(Path("postgresql://db/inbox"))
