"""The change feed: every commit, this process's or another's, reaches a reader, which then reads it;
and how a store is opened and closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.store.conftest import Backend
from tests.support.store import inbound, sid
from wa_inbox.store import Changes, Store, StoreError, open_store

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


async def read_to_the_end(store: Store, seq: int) -> list[Changes]:
    """Every page of the feed after `seq`, as a reader reads them: again while `more`."""
    pages = [await store.changes_since(seq)]
    while pages[-1].more:
        assert len(pages) < 10, "the feed never reached its newest change"
        pages.append(await store.changes_since(pages[-1].seq))
    return pages


async def test_more_than_a_page_of_changes_reaches_a_reader_whole_a_page_at_a_time(store: Store) -> None:
    seen = await store.change_number()
    customers = [f"whatsapp:+3461100{n:04d}" for n in range(13)]
    # 1,300 messages in many commits (SQLite's writer batches a few hundred; PostgreSQL, one each).
    await asyncio.gather(*(inbound(store, n, f"burst {n}", customers[n % 13]) for n in range(1300)))

    pages = await read_to_the_end(store, seen)

    assert len(pages) > 1 and len(pages[0].messages) >= 1000  # cut, at a whole commit after the 1,000th
    delivered = [m.sid for page in pages for m in page.messages]
    assert sorted(delivered) == sorted(sid(n) for n in range(1300))  # each once, none skipped
    assert pages[-1].seq == await store.change_number() and not pages[-1].more
    for page in pages:  # each page's conversations are those its messages touched
        assert {c.contact.address for c in page.conversations} == {m.address for m in page.messages}
    assert {c.contact.address for page in pages for c in page.conversations} == set(customers)
    assert (await store.changes_since(pages[-1].seq)).messages == []


async def test_one_commit_of_more_than_a_page_is_never_cut(store: Store) -> None:
    await asyncio.gather(*(inbound(store, n, f"unread {n}", ZOE) for n in range(1500)))
    seen = await store.change_number()
    assert await store.mark_read(ZOE) == 1500  # one commit changes all 1,500

    changes = await store.changes_since(seen)

    assert len(changes.messages) == 1500 and {m.sid for m in changes.messages} == {
        sid(n) for n in range(1500)
    }
    assert all(m.read_by_agent_at is not None for m in changes.messages)
    assert not changes.more and changes.seq == await store.change_number()
    assert [c.contact.address for c in changes.conversations] == [ZOE]
