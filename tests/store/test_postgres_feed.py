"""PostgreSQL's change feed never skips a commit that finished out of order, hears other stores'
commits through LISTEN/NOTIFY, and is not stalled for ever by a transaction that rolled back.

A change number is a transaction id (`wa_inbox/store/postgres/feed.py`): transaction A may take a
lower id than B and commit after it. These tests hold such an A open on a raw psycopg connection to
the same database, the way a slow replica's write would be, while a store commits B.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from tests.support import postgres as server
from tests.support.store import ANA, BEN, BUSINESS, inbound, sid
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain import status as status_rules
from wa_inbox.store import Store, open_store

CARL = "whatsapp:+4915112345678"


@pytest.fixture
def url() -> DatabaseUrl:
    return server.fresh_database()


@pytest.fixture
async def store(url: DatabaseUrl) -> AsyncIterator[Store]:
    opened = await open_store(url)
    yield opened
    await opened.close()


async def begin_slow_write(url: DatabaseUrl, body: str) -> tuple[psycopg.AsyncConnection[Any], int]:
    """Transaction A: a customer's message written (as the ingest writes one) and not committed;
    the connection holding it open, and its transaction id."""
    conn = await psycopg.AsyncConnection.connect(url.conninfo)  # not autocommit: a transaction begins
    now = datetime.now(UTC)
    await conn.execute(
        "INSERT INTO contacts (address, created_at) VALUES (%s, %s) ON CONFLICT DO NOTHING", [ANA, now]
    )
    await conn.execute(
        "INSERT INTO messages (sid, direction, address, from_addr, to_addr, body, status, status_rank,"
        " created_at, updated_at) VALUES (%s, 'in', %s, %s, %s, %s, 'received', %s, %s, %s)",
        [sid(1), ANA, ANA, BUSINESS, body, status_rules.rank("received"), now, now],
    )
    cursor = await conn.execute("SELECT pg_current_xact_id()::text::bigint")
    row = await cursor.fetchone()
    assert row is not None
    return conn, int(row[0])


async def change_seq_of(url: DatabaseUrl, message_sid: str) -> int:
    ((seq,),) = await server.async_rows(url, "SELECT change_seq FROM messages WHERE sid = %s", [message_sid])
    return int(seq)


async def test_a_commit_that_finishes_after_a_later_one_is_not_skipped(
    url: DatabaseUrl, store: Store
) -> None:
    seen = await store.change_number()
    await inbound(store, 3, "C: committed before both", address=CARL)
    slow, slow_id = await begin_slow_write(url, "A: began first, commits last")
    try:
        await inbound(store, 2, "B: began second, committed first", address=BEN)
        fast_id = await change_seq_of(url, sid(2))
        assert fast_id > slow_id  # B holds the higher id and is committed; A is still running

        held = await store.changes_since(seen)
        changed = await store.messages_changed_since(seen)

        assert held.seq < slow_id and await store.change_number() < slow_id  # not past A's id
        assert [m.body for m in held.messages] == [m.body for m in changed] == ["C: committed before both"]
        assert [c.contact.address for c in held.conversations] == [CARL]  # B waits with A, not skipped
        await slow.commit()
    finally:
        await slow.close()

    caught_up = await store.changes_since(held.seq)
    after = await store.changes_since(caught_up.seq)

    assert sorted(m.body for m in caught_up.messages) == [
        "A: began first, commits last",
        "B: began second, committed first",
    ]
    assert {c.contact.address for c in caught_up.conversations} == {ANA, BEN}
    assert caught_up.seq >= fast_id
    assert (after.messages, after.conversations, after.events) == ([], [], [])  # each change once


async def test_the_feed_yields_within_a_second_of_another_store_s_commit(
    url: DatabaseUrl, store: Store
) -> None:
    feed = store.changes()
    waiting = asyncio.ensure_future(anext(feed))
    await asyncio.sleep(0.5)  # the reader is following the feed
    assert not waiting.done()
    seen = await store.change_number()

    other = await open_store(url)  # another replica on the same database
    try:
        await inbound(other, 1, "from another replica")
        committed = time.monotonic()
        await asyncio.wait_for(waiting, 1.0)
        heard_after = time.monotonic() - committed
    finally:
        await other.close()

    assert heard_after < 1.0
    assert [m.body for m in (await store.changes_since(seen)).messages] == ["from another replica"]


async def test_a_rolled_back_transaction_holds_the_feed_only_while_it_runs(
    url: DatabaseUrl, store: Store
) -> None:
    feed = store.changes()
    waiting = asyncio.ensure_future(anext(feed))
    await asyncio.sleep(0.5)
    seen = await store.change_number()
    slow, slow_id = await begin_slow_write(url, "never committed")
    try:
        await inbound(store, 2, "committed meanwhile", address=BEN)
        await asyncio.sleep(1.5)  # notified, and rechecked: still held below A
        assert not waiting.done()
        assert (await store.changes_since(seen)).seq < slow_id
        await slow.rollback()
        rolled_back = time.monotonic()
    finally:
        await slow.close()

    await asyncio.wait_for(waiting, 3.0)  # no notification comes from a rollback: the recheck finds it
    assert time.monotonic() - rolled_back < 3.0
    changes = await store.changes_since(seen)
    assert [m.body for m in changes.messages] == ["committed meanwhile"]
    assert changes.seq > slow_id
    assert await store.get_message(sid(1)) is None
