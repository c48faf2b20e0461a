"""Round-robin auto-assignment: new conversations go to the agents seen recently, in turn, as `system`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.store import Clock, inbound
from wa_inbox.config import Settings, TeamSettings
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import SYSTEM, EventKind
from wa_inbox.gateway.assignment import AutoAssigner, assigning
from wa_inbox.store import Store, open_store

CUSTOMERS = [f"whatsapp:+3461200{n:04d}" for n in range(3)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "inbox.db", clock=clock)
    yield opened
    await opened.close()


async def two_recent_agents_and_one_gone(store: Store, clock: Clock) -> None:
    await store.record_agent("zed")  # seen long ago: takes no part
    clock.advance(20 * 60)
    await store.record_agent("ben")
    await store.record_agent("ana")


async def assignees(store: Store) -> dict[str, str | None]:
    return {c.contact.address: c.assignee for c in await store.list_conversations()}


async def test_three_new_customers_go_to_the_two_recent_agents_in_turn(store: Store, clock: Clock) -> None:
    await two_recent_agents_and_one_gone(store, clock)
    assigner = AutoAssigner(store, clock)
    await assigner.start()

    for n, address in enumerate(CUSTOMERS):
        await inbound(store, n, "hello", address=address)
    assigned = await assigner.catch_up()

    assert assigned == [(CUSTOMERS[0], "ana"), (CUSTOMERS[1], "ben"), (CUSTOMERS[2], "ana")]
    assert await assignees(store) == {CUSTOMERS[0]: "ana", CUSTOMERS[1]: "ben", CUSTOMERS[2]: "ana"}
    (event,) = await store.thread_events(CUSTOMERS[1])
    assert (event.kind, event.author, event.body) == (EventKind.ASSIGNED, SYSTEM, "ben")


async def test_history_an_answered_customer_and_a_taken_conversation_are_left_alone(
    store: Store, clock: Clock
) -> None:
    await inbound(store, 1, "before the assigner", address=CUSTOMERS[0])
    await two_recent_agents_and_one_gone(store, clock)
    assigner = AutoAssigner(store, clock)
    await assigner.start()

    await inbound(store, 2, "again", address=CUSTOMERS[0])  # not a new conversation
    await store.queue_draft(Draft(CUSTOMERS[1], "hello from us", author="ana"), "k1")
    await inbound(store, 3, "reply to an agent", address=CUSTOMERS[1])  # started by an agent
    await inbound(store, 4, "hi", address=CUSTOMERS[2])
    await store.assign(CUSTOMERS[2], "ben", "ben")  # taken before the assigner looked
    assert await assigner.catch_up() == []
    await store.mark_read(CUSTOMERS[2])
    await store.assign(CUSTOMERS[2], None, "ben")  # given back, then read again: no news
    await store.mark_read(CUSTOMERS[2])
    assert await assigner.catch_up() == []

    assert await assignees(store) == {c: None for c in CUSTOMERS}


async def test_a_new_customer_behind_more_than_a_page_of_the_feed_is_assigned(
    store: Store, clock: Clock
) -> None:
    await two_recent_agents_and_one_gone(store, clock)
    assigner = AutoAssigner(store, clock)
    await assigner.start()
    await asyncio.gather(*(inbound(store, n, f"burst {n}", address=CUSTOMERS[0]) for n in range(1100)))
    await inbound(store, 1100, "hello", address=CUSTOMERS[1])  # after the first 1,000 changes

    assert await assigner.catch_up() == [(CUSTOMERS[0], "ana"), (CUSTOMERS[1], "ben")]


async def test_no_recent_agent_leaves_the_conversation_unassigned(store: Store, clock: Clock) -> None:
    await store.record_agent("ana")
    clock.advance(16 * 60)
    assigner = AutoAssigner(store, clock)
    await assigner.start()
    await inbound(store, 1, "hello", address=CUSTOMERS[0])
    assert await assigner.catch_up() == []


async def test_the_server_task_follows_the_feed_when_the_setting_is_on(store: Store, clock: Clock) -> None:
    await store.record_agent("ana")
    settings = Settings(team=TeamSettings(auto_assign=True))
    async with assigning(settings, store, clock):
        await asyncio.sleep(0.3)  # the task reads where the feed is
        await inbound(store, 1, "hello", address=CUSTOMERS[0])
        for _ in range(40):
            if (await assignees(store))[CUSTOMERS[0]] == "ana":
                break
            await asyncio.sleep(0.05)
    assert (await assignees(store))[CUSTOMERS[0]] == "ana"


async def test_off_by_default(store: Store) -> None:
    await store.record_agent("ana")
    async with assigning(Settings(), store):
        await asyncio.sleep(0.2)
        await inbound(store, 1, "hello", address=CUSTOMERS[0])
        await asyncio.sleep(0.4)
    assert (await assignees(store))[CUSTOMERS[0]] is None
