"""Two agents, two inboxes, one database (#14): each app is an agent of its own, attached to the database
of a world whose receiver and sender run beside them (the emulator plays the customers and Twilio)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from textual.pilot import Pilot

from tests.support.tui import (
    ANA,
    BEN,
    ZOE,
    list_rows,
    running_app,
    settled,
    static_text,
    status_text,
    thread_text,
    type_text,
    until,
)
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.domain.models import Direction
from wa_inbox.domain.team import View
from wa_inbox.running.services import Backend, attached
from wa_inbox.testing import EmulatedInbox
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.screens.menu import ChoiceMenu
from wa_inbox.tui.widgets.composer import Composer

ALICE, BOB = "alice", "bob"


def as_agent(world: EmulatedInbox, agent: str) -> Backend:
    """An inbox attached to the world's database as `agent` (the world's sender delivers)."""
    return attached(
        world.settings.model_copy(update={"agent": world.settings.agent.model_copy(update={"name": agent})})
    )


@contextlib.asynccontextmanager
async def two_agents(
    world: EmulatedInbox,
) -> AsyncIterator[tuple[tuple[InboxApp, Pilot[None]], tuple[InboxApp, Pilot[None]]]]:
    async with running_app(as_agent(world, ALICE)) as a, running_app(as_agent(world, BOB)) as b:
        yield a, b


async def at_work(world: EmulatedInbox) -> None:
    """Both agents seen before the customers write: their unread counts start at their first sighting."""
    for agent in (ALICE, BOB):
        await world.store.record_agent(agent)


def header(app: InboxApp) -> str:
    return static_text(app, "#thread-header")


async def outbound_authors(world: EmulatedInbox, address: str) -> list[tuple[str, str | None]]:
    page = await world.store.thread_page(address)
    return [(m.body, m.author) for m in page if m.direction is Direction.OUTBOUND]


async def test_each_inbox_says_who_it_is_and_its_replies_carry_the_agent(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Hello?")
        async with running_app(as_agent(world, ALICE)) as (app, pilot):
            assert "you are alice" in status_text(app)
            await pilot.press("ctrl+e")
            await type_text(pilot, "Hi Zoe")
            await pilot.press("enter")
            await eventually(lambda: outbound_authors(world, ZOE), lambda sent: sent == [("Hi Zoe", ALICE)])
            await settled(pilot)
            assert any("You: Hi" in row for row in list_rows(app))
            assert (await world.store.list_agents())[0].name == ALICE


async def test_an_assignment_is_seen_live_by_the_other_agent(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Who is helping me?")
        async with two_agents(world) as ((alice, a), (bob, b)):
            await pilot_opens(b, bob, ZOE)
            await a.press("ctrl+o", "ctrl+y")
            await until(a, lambda: isinstance(alice.screen, ChoiceMenu))
            await a.press("enter")  # the first choice: take it

            await until(b, lambda: "assigned to alice" in header(bob), seconds=3)
            await until(b, lambda: "alice took this" in thread_text(bob))
            await until(a, lambda: "assigned to you" in header(alice))


async def pilot_opens(pilot: Pilot[None], app: InboxApp, address: str) -> None:
    await settled(pilot)
    await pilot.press("ctrl+o")
    app.inbox.open(address)
    await until(pilot, lambda: app.inbox.contact is not None and app.inbox.contact.address == address)
    await settled(pilot)


async def test_a_send_right_after_another_agents_reply_asks_first(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Refund?")
        async with two_agents(world) as ((alice, a), (bob, b)):
            await pilot_opens(a, alice, ZOE)
            await pilot_opens(b, bob, ZOE)
            await type_text(a, "checking")
            await a.press("enter")
            await until(b, lambda: "alice · " in thread_text(bob))  # her bubble carries her name

            await type_text(b, "I will refund you")
            await b.press("enter")
            await until(b, lambda: "alice replied" in static_text(bob, "#collision"))
            assert "Enter sends anyway, Esc cancels" in static_text(bob, "#collision")
            assert bob.inbox.query_one(Composer).text == "I will refund you"
            assert await outbound_authors(world, ZOE) == [("checking", ALICE)]

            await b.press("enter")  # sends anyway
            await eventually(
                lambda: outbound_authors(world, ZOE),
                lambda sent: sent == [("checking", ALICE), ("I will refund you", BOB)],
            )
            assert bob.inbox.collision_warning is None


async def test_esc_cancels_the_send_and_keeps_the_text(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Refund?")
        async with two_agents(world) as ((alice, a), (bob, b)):
            await pilot_opens(a, alice, ZOE)
            await pilot_opens(b, bob, ZOE)
            await type_text(a, "checking")  # typing, not sent: bob sees it
            await until(b, lambda: "alice is typing" in header(bob), seconds=4)

            await type_text(b, "on it")
            await b.press("enter")
            await until(b, lambda: "alice is typing here" in static_text(bob, "#collision"))
            await b.press("escape")
            await until(b, lambda: bob.inbox.collision_warning is None)
            assert bob.inbox.query_one(Composer).text == "on it"
            assert await outbound_authors(world, ZOE) == []


async def test_a_note_stays_inside_and_a_mention_reaches_the_other_agent(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "My parcel is lost")
        await customer_writes(world, BEN, "Hi")
        async with two_agents(world) as ((alice, a), (bob, b)):
            await pilot_opens(b, bob, BEN)
            await pilot_opens(a, alice, ZOE)
            await a.press("f5")
            composer = alice.inbox.query_one(Composer)
            assert composer.border_title == "Internal note — not sent to the customer"
            await type_text(a, "@bob can you call the courier")
            await a.press("enter")

            await until(a, lambda: "🔒 note · alice" in thread_text(alice))
            await until(b, lambda: "alice mentioned you" in static_text(bob, "#notice"))
            await settled(a)
            assert await world.emulator.sent() == []
            assert await outbound_authors(world, ZOE) == []
            (note,) = await world.store.thread_events(ZOE)
            assert (note.author, note.body) == (ALICE, "@bob can you call the courier")


async def test_read_marks_are_each_agents_own(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await at_work(world)
        await customer_writes(world, BEN, "Hi")
        await customer_writes(world, ZOE, "Anyone?")
        async with two_agents(world) as ((alice, a), (bob, b)):
            await pilot_opens(a, alice, ZOE)
            await until(a, lambda: _unread(alice, ZOE) == 0)
            await settled(b)
            assert _unread(bob, ZOE) == 1  # alice read it, not bob


def _unread(app: InboxApp, address: str) -> int | None:
    row = next((c for c in app.inbox.conversations if c.contact.address == address), None)
    return row.unread_count if row else None


async def test_views_counts_and_a_resolved_conversation_back_on_a_new_message(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await at_work(world)
        await customer_writes(world, BEN, "Hi")
        await customer_writes(world, ZOE, "Anyone?")
        async with two_agents(world) as ((alice, a), (bob, b)):
            assert static_text(bob, "#list-note").startswith("All · 2 conversations · 2 unread")
            await world.store.assign(ZOE, ALICE, by=ALICE)
            await b.press("ctrl+o", "ctrl+v")  # Mine
            await until(
                b,
                lambda: bob.inbox.view is View.MINE and static_text(bob, "#list-note").startswith("Mine · 0"),
            )
            await b.press("ctrl+v")  # Unassigned
            await until(b, lambda: static_text(bob, "#list-note").startswith("Unassigned · 1 conversation"))
            assert [c.contact.address for c in bob.inbox.conversations] == [BEN]

            await world.store.assign(BEN, BOB, by=ALICE)  # leaves bob's Unassigned view, live
            await until(b, lambda: bob.inbox.conversations == [])
            await b.press("ctrl+v", "ctrl+v")  # All, then Mine
            await until(b, lambda: [c.contact.address for c in bob.inbox.conversations] == [BEN])

            await pilot_opens(a, alice, ZOE)
            await a.press("ctrl+d")
            await until(a, lambda: isinstance(alice.screen, ChoiceMenu))
            await a.press("down", "down", "enter")  # Resolved
            await until(a, lambda: ZOE not in [c.contact.address for c in alice.inbox.conversations])
            assert "alice marked this resolved" in thread_text(alice)

            await customer_writes(world, ZOE, "Still broken")
            await until(a, lambda: ZOE in [c.contact.address for c in alice.inbox.conversations])


async def test_notices_follow_notify_mine_and_unassigned_and_mentions_always(tmp_path: Path) -> None:
    """`[tui] notify` (default: mine and unassigned): a message in a colleague's conversation is not
    announced to me; one in an unassigned or my own is; a note naming me is, whoever's it is."""
    async with running_world(tmp_path) as world:
        await at_work(world)
        for address in (ZOE, BEN, ANA):
            await customer_writes(world, address, "Hello")
        await world.store.assign(BEN, BOB, BOB)
        await world.store.assign(ANA, ALICE, ALICE)
        async with running_app(as_agent(world, ALICE)) as (alice, a):
            await pilot_opens(a, alice, ANA)  # looking at her own: the others write meanwhile
            await customer_writes(world, BEN, "Bob's customer again")
            await customer_writes(world, ZOE, "Nobody's customer again")
            await until(a, lambda: ZOE in alice.inbox.notices.waiting)
            await settled(a)
            assert BEN not in alice.inbox.notices.waiting

            await world.store.add_note(BEN, BOB, "@alice can you look at this one?")
            await until(a, lambda: "bob mentioned you" in static_text(alice, "#notice"))
