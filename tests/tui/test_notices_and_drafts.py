"""The inbox an agent leaves open all day: notices in their own line, a draft per conversation, go-to,
search over names and numbers, and the list holding still while the agent moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.tui import (
    ANA,
    BEN,
    ZOE,
    inbound,
    list_rows,
    offline_backend,
    open_address,
    running_app,
    static_text,
    thread_text,
    type_text,
    until,
    world_backend,
)
from tests.support.world import customer_writes, running_world
from wa_inbox.store import open_store
from wa_inbox.tui.screens.search import SearchScreen
from wa_inbox.tui.widgets.composer import Composer
from wa_inbox.tui.widgets.conversation_list import ConversationList
from wa_inbox.tui.widgets.thread_view import ThreadView


async def test_notices_keep_one_line_per_conversation_and_none_for_the_open_one(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "First")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("enter")  # Zoe, the only one, opened
            await until(pilot, lambda: open_address(app) == ZOE)

            await world.emulator.customer_says(ZOE, "Still there?")
            await world.emulator.customer_says(BEN, "Hello from Ben")
            await until(pilot, lambda: "Hello from Ben" in static_text(app, "#notice"))
            await world.emulator.customer_says(BEN, "Ben again")
            await until(pilot, lambda: "Ben again" in static_text(app, "#notice"))

            notice = static_text(app, "#notice")
            assert "Hello from Ben" not in notice  # a newer message replaced the older
            assert "more" not in notice  # Zoe's own message is not announced: she is open
            assert not app.screen.query("Toast")  # nothing floats over the composer

            await pilot.press("f4")
            await world.emulator.customer_says(ANA, "Oi")
            await until(pilot, lambda: any("Oi" in row for row in list_rows(app)))
            assert "Oi" not in static_text(app, "#notice")  # quiet: the list's marks only


async def test_each_conversation_keeps_its_draft_and_a_restart_keeps_them(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Hi")
        await customer_writes(world, BEN, "Hello")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("enter")  # Ben, the newest
            await until(pilot, lambda: open_address(app) == BEN)
            await type_text(pilot, "for Ben")
            await pilot.press("escape", "down", "enter")
            await until(pilot, lambda: open_address(app) == ZOE)
            composer = app.inbox.query_one(Composer)
            assert composer.text == ""  # never Ben's text in Zoe's conversation

            await pilot.press("escape", "up", "enter")
            await until(pilot, lambda: open_address(app) == BEN)
            assert composer.text == "for Ben"
            await pilot.press("ctrl+q")
        assert await world.store.get_draft(BEN) == "for Ben"
        assert await world.store.get_draft(ZOE) == ""

        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("enter")
            await until(pilot, lambda: app.inbox.query_one(Composer).text == "for Ben")


async def test_go_to_finds_a_conversation_by_number_and_opens_it(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        for address in (ZOE, BEN, ANA):
            await customer_writes(world, address, "Hi")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("ctrl+g")
            await type_text(pilot, "550123")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: open_address(app) == BEN)
            assert app.focused is app.inbox.query_one(Composer)


async def test_search_finds_names_and_numbers_and_says_when_nothing_matches(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await world.emulator.customer_says(ZOE, "Where is my parcel?", profile_name="Zoë Quinn")
        await customer_writes(world, BEN, "Hello")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            await type_text(pilot, "quinn")
            await until(pilot, lambda: "1 customers" in static_text(app, "#search-summary"))
            await pilot.press("enter")
            await until(pilot, lambda: open_address(app) == ZOE)

            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            await type_text(pilot, "zzzqqq")
            await until(pilot, lambda: "No results" in static_text(app, "#search-summary"))


async def test_the_list_holds_its_order_while_the_agent_moves(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        for address in (ZOE, BEN, ANA):
            await customer_writes(world, address, "Hi")
        async with running_app(world_backend(world)) as (app, pilot):
            conversations = app.inbox.query_one(ConversationList)
            await pilot.press("down")  # moving: Ben highlighted
            order = [c.contact.address for c in conversations.conversations]
            await world.emulator.customer_says(ZOE, "New activity at the bottom")
            await until(pilot, lambda: conversations.held == 1)
            assert [c.contact.address for c in conversations.conversations] == order
            assert "1 updated" in static_text(app, "#list-note")

            await until(pilot, lambda: conversations.held == 0, seconds=6)  # the agent paused
            assert conversations.conversations[0].contact.address == ZOE
            assert conversations.selected_address == BEN  # the cursor stayed on its conversation


async def test_a_search_hit_opens_its_conversation_at_that_message(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    store = await open_store(db)
    start = datetime.now(UTC) - timedelta(hours=2)
    try:
        await inbound(store, ZOE, "The parcel code is WATERMELON", start, name="Zoe")
        for n in range(120):  # two pages and more after the hit
            await inbound(store, ZOE, f"filler {n}", start + timedelta(seconds=n + 1), name="Zoe")
    finally:
        await store.close()
    async with running_app(offline_backend(db)) as (app, pilot):
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await type_text(pilot, "watermelon")
        await until(pilot, lambda: "1 messages" in static_text(app, "#search-summary"))
        await pilot.press("enter")

        await until(pilot, lambda: "WATERMELON" in thread_text(app))
        thread = app.inbox.query_one(ThreadView)
        assert thread.selected is not None and "WATERMELON" in thread.messages[thread.selected].body
