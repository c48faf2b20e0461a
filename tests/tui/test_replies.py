"""Saved replies: `/` in an empty composer opens them, the keys of the same burst filter them, Enter puts
the chosen one in the composer filled in and editable, never sent; Esc (or a second `/`) leaves the `/`.
Managed from the list too: ctrl+n keeps a new one, ctrl+d forgets one after asking."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input

from tests.support.tui import (
    ZOE,
    inbound,
    open_conversation,
    running_app,
    settled,
    type_text,
    until,
)
from tests.support.world import eventually, running_world
from wa_inbox.config import AgentSettings, Settings
from wa_inbox.domain.models import Direction
from wa_inbox.running.services import Backend, Services, attached
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.testing import EmulatedInbox
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.screens.inbox import InboxScreen
from wa_inbox.tui.screens.replies import Confirm, NewReply, ReplyPicker, matching
from wa_inbox.tui.widgets.composer import Composer

AGENT = "Ana"
ORDER = "Hi {name}, {agent} here: your order ships today."
REFUND = "Your refund is on its way, {name}."


def as_agent(world: EmulatedInbox, agent: str = AGENT) -> Backend:
    """The world's services, answering as `agent`."""
    settings = world.settings.model_copy(update={"agent": AgentSettings(name=agent)})

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        yield Services.of(settings, world.store, world.outbox, world.receiver_url)

    return start


async def burst(pilot: Pilot[None], *keys: str) -> None:
    """Keys as one write of a terminal delivers them: all read before any is handled (a character
    stands for its own key)."""
    app = pilot.app
    assert app._driver is not None
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, " " if key == "space" else key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause()


def composer(app: InboxApp) -> Composer:
    return app.inbox.query_one(Composer)


@contextlib.asynccontextmanager
async def writing_to_zoe(tmp_path: Path) -> AsyncIterator[tuple[EmulatedInbox, InboxApp, Pilot[None]]]:
    """Zoe wrote (the window is open), two replies are saved, the composer has the focus."""
    async with running_world(tmp_path) as world:
        sid = await world.emulator.customer_says(ZOE, "Where is my order?", profile_name="Zoe")
        await eventually(lambda: world.store.get_message(sid), lambda message: message is not None)
        await world.store.save_reply("order-status", ORDER, "Ben")
        await world.store.save_reply("refund", REFUND, "Ben")
        async with running_app(as_agent(world)) as (app, pilot):
            await pilot.press("ctrl+e")
            await until(pilot, lambda: app.focused is composer(app))
            yield world, app, pilot


async def nothing_sent(world: EmulatedInbox) -> None:
    await asyncio.sleep(0.3)  # a send would have reached the emulator by now
    assert await world.emulator.sent() == []
    page = await world.store.thread_page(ZOE)
    assert [m for m in page if m.direction is Direction.OUTBOUND] == []


async def test_a_reply_typed_in_one_burst_is_inserted_filled_for_editing_and_not_sent(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (world, app, pilot):
        await burst(pilot, "/", "o", "r", "d", "enter")

        filled = "Hi Zoe, Ana here: your order ships today."
        await until(pilot, lambda: composer(app).text == filled)
        assert isinstance(app.screen, InboxScreen)
        assert app.focused is composer(app)
        await nothing_sent(world)

        await pilot.press("backspace")
        await type_text(pilot, ", by noon.")
        assert composer(app).text == "Hi Zoe, Ana here: your order ships today, by noon."
        await nothing_sent(world)


async def test_the_keys_behind_enter_are_typed_after_the_reply(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (world, app, pilot):
        await burst(pilot, "/", "r", "e", "f", "enter", "space", "T", "a", "!")

        await until(pilot, lambda: composer(app).text == "Your refund is on its way, Zoe. Ta!")
        await nothing_sent(world)


async def test_the_inserted_reply_goes_through_the_normal_send(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (world, app, pilot):
        await burst(pilot, "/", "r", "e", "f", "u", "n", "d", "enter")
        await until(pilot, lambda: composer(app).text == "Your refund is on its way, Zoe.")

        await pilot.press("enter")

        (sent,) = await eventually(world.emulator.sent, lambda sent: len(sent) == 1)
        assert sent["params"]["Body"] == "Your refund is on its way, Zoe."


async def test_esc_closes_the_list_and_leaves_the_slash(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (world, app, pilot):
        await burst(pilot, "/", "escape", "h", "e", "l", "p")

        await until(pilot, lambda: composer(app).text == "/help")
        assert isinstance(app.screen, InboxScreen)
        await nothing_sent(world)


async def test_a_second_slash_starts_a_message_with_one(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (_, app, pilot):
        await burst(pilot, "/", "/", "e", "t", "c")

        await until(pilot, lambda: composer(app).text == "/etc")
        assert isinstance(app.screen, InboxScreen)


async def test_slash_inside_a_message_is_only_a_character(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (_, app, pilot):
        await type_text(pilot, "24/7")
        await pilot.pause()
        assert composer(app).text == "24/7"
        assert isinstance(app.screen, InboxScreen)


async def test_typed_slowly_the_list_filters_and_previews_the_filled_text(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (_, app, pilot):
        await pilot.press("/")
        await until(pilot, lambda: isinstance(app.screen, ReplyPicker))
        picker = app.screen
        assert isinstance(picker, ReplyPicker)
        await until(pilot, lambda: picker.query_one("#replies-list").option_count == 2)

        await type_text(pilot, "ref")
        await until(pilot, lambda: picker.query_one("#replies-list").option_count == 1)
        assert str(picker.query_one("#replies-preview").render()) == "Your refund is on its way, Zoe."
        assert picker.highlighted is not None and picker.highlighted.name == "refund"


async def test_ctrl_n_saves_a_new_reply_and_ctrl_d_deletes_one_after_asking(tmp_path: Path) -> None:
    async with writing_to_zoe(tmp_path) as (world, app, pilot):
        await pilot.press("/")
        await until(pilot, lambda: isinstance(app.screen, ReplyPicker))
        picker = app.screen
        assert isinstance(picker, ReplyPicker)

        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, NewReply))
        await type_text(pilot, "thanks")
        await pilot.press("enter")
        await type_text(pilot, "Thanks {name}!")
        await pilot.press("ctrl+s")

        await until(pilot, lambda: app.screen is picker)
        replies = await eventually(world.store.list_replies, lambda replies: len(replies) == 3)
        (new,) = [reply for reply in replies if reply.name == "thanks"]
        assert (new.body, new.updated_by) == ("Thanks {name}!", AGENT)
        await until(pilot, lambda: picker.highlighted is not None and picker.highlighted.name == "thanks")

        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")  # asked, and kept
        await until(pilot, lambda: app.screen is picker)
        assert len(await world.store.list_replies()) == 3

        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await eventually(world.store.list_replies, lambda replies: "thanks" not in {r.name for r in replies})
        await until(pilot, lambda: picker.query_one("#replies-list").option_count == 2)
        assert composer(app).text == "/"  # the list kept the composer as it was
        await nothing_sent(world)


def test_matching_puts_names_first_then_texts() -> None:
    now = datetime(2026, 3, 14, tzinfo=UTC)
    from wa_inbox.domain.team import SavedReply

    replies = [
        SavedReply("greeting", "Hello, how can we help?", "Ana", now),
        SavedReply("order-status", ORDER, "Ana", now),
        SavedReply("refund", REFUND, "Ana", now),
    ]
    assert [r.name for r, _ in matching(replies, "")] == ["greeting", "order-status", "refund"]
    assert [r.name for r, _ in matching(replies, "ord")] == ["order-status"]
    assert [r.name for r, _ in matching(replies, "help")] == ["greeting"]  # found by its text
    assert matching(replies, "zzz") == []


# --- snapshots ---------------------------------------------------------------------------------------

FIXED_NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
HOSTILE = "whatsapp:+4915112345678"


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


async def seed(path: Path) -> None:
    store = await SqliteStore.open(path, lambda: FIXED_NOW)
    try:
        await inbound(store, HOSTILE, "Do you ship to Canada?", FIXED_NOW - timedelta(hours=2), name="[b]x")
        await store.save_reply("order-status", ORDER, "Ben")
        await store.save_reply("refund", REFUND, "Ben")
        await store.save_reply("[b]x", "[link=https://evil.example]pay here[/link] {name}", "Ben")
    finally:
        await store.close()


def test_the_replies_list(snap_compare: object, tmp_path: Path, utc: None) -> None:
    """Names, texts and the customer's name are outside text: `[b]x` shows as typed, not bold."""
    path = tmp_path / "inbox.db"
    asyncio.run(seed(path))
    settings = Settings.model_validate({"store": {"path": path}, "agent": {"name": AGENT}})
    app = InboxApp(attached(settings), clock=lambda: FIXED_NOW)

    async def open_the_list(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await open_conversation(pilot, "[b]x")
        await pilot.press("/")
        await until(pilot, lambda: isinstance(app.screen, ReplyPicker))
        await until(pilot, lambda: app.screen.query_one("#replies-list").option_count == 3)
        await pilot.press("down", "down")
        for widget in [composer(app), *app.screen.query(Input)]:
            widget.cursor_blink = False  # on or off by chance otherwise

    assert snap_compare(app, terminal_size=(120, 32), run_before=open_the_list)  # type: ignore[operator]
