"""The team's writes on PostgreSQL with several processes at once (READ COMMITTED): two stores, each
with its own connection pool as two replicas or inboxes have, race the same change; it happens once,
with one thread event, and nothing raises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest

from tests.support import postgres as server
from tests.support.store import ANA, inbound
from wa_inbox.domain.team import EventKind
from wa_inbox.store import Store, open_store

T = TypeVar("T")

RACERS = 10
"""Calls per store in each race: with two stores, 20 at once on a pool of 10 connections each."""


@pytest.fixture
async def stores() -> AsyncIterator[tuple[Store, Store]]:
    url = server.fresh_database()
    one, two = await open_store(url), await open_store(url)
    try:
        await inbound(one, 1, "hi")
        yield one, two
    finally:
        await one.close()
        await two.close()


async def race(stores: tuple[Store, Store], call: Callable[[Store], Awaitable[T]]) -> list[T]:
    """`call(store)` RACERS times on each store, all at once."""
    return list(await asyncio.gather(*(call(store) for store in stores for _ in range(RACERS))))


async def events(store: Store, kind: EventKind) -> list[str]:
    return [e.body for e in await store.thread_events(ANA) if e.kind == kind]


async def test_one_assignment_wins_and_writes_one_event(stores: tuple[Store, Store]) -> None:
    won = await race(stores, lambda store: store.assign(ANA, "ana", by="ana"))

    assert won.count(True) == 1
    assert await events(stores[0], EventKind.ASSIGNED) == ["ana"]
    (conversation,) = await stores[1].list_conversations()
    assert conversation.assignee == "ana"


async def test_one_status_change_and_one_label_win(stores: tuple[Store, Store]) -> None:
    resolved = await race(stores, lambda store: store.set_conversation_status(ANA, "resolved", by="ben"))
    labelled = await race(stores, lambda store: store.set_label(ANA, "vip", True, by="ben"))
    unlabelled = await race(stores, lambda store: store.set_label(ANA, "vip", False, by="ben"))

    assert (resolved.count(True), labelled.count(True), unlabelled.count(True)) == (1, 1, 1)
    assert await events(stores[0], EventKind.STATUS) == ["resolved"]
    assert await events(stores[0], EventKind.LABEL) == ["+vip", "-vip"]


async def test_upserts_race_into_one_row(stores: tuple[Store, Store]) -> None:
    agents = await race(stores, lambda store: store.record_agent("ana"))
    await race(stores, lambda store: store.touch_presence("ana", ANA, typing=True))
    await race(stores, lambda store: store.save_reply("thanks", "Thank you!", by="ana"))
    await race(stores, lambda store: store.mark_read(ANA, agent="ana"))

    assert [a.name for a in await stores[0].list_agents()] == ["ana"]
    assert len({a.first_seen for a in agents}) == 1  # every racer got the one row back
    assert [p.agent for p in await stores[1].presence(ANA)] == ["ana"]
    assert [r.name for r in await stores[1].list_replies()] == ["thanks"]
    (conversation,) = await stores[0].list_conversations(agent="ana")
    assert conversation.unread_count == 0
