"""The contact panel (ctrl+k): the customer's number, name, window, opt-out with its whole history, and
labels; a manual opt-out or opt-in asks first and names the agent in the audit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from tests.support.tui import inbound, open_conversation, settled, type_text, until
from tests.support.world import eventually
from wa_inbox.config import Settings
from wa_inbox.domain.optout import OptAction
from wa_inbox.running.services import attached
from wa_inbox.store import Store
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.tui import format as fmt
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.screens.contact import ContactPanel
from wa_inbox.tui.screens.inbox import InboxScreen
from wa_inbox.tui.screens.replies import Confirm
from wa_inbox.tui.widgets.composer import Composer

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
AGENT = "Ana"
CHLOE = "whatsapp:+33612345678"
HOSTILE = "whatsapp:+4915112345678"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times are drawn in the agent's zone: make it UTC (and `TZ` too, for the snapshot's list)."""
    monkeypatch.setattr(fmt, "ZONE", UTC)
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


async def seed(path: Path) -> None:
    """Chloé wrote, opted out (STOP), back in (START), wrote again; a hostile name with a label."""
    clock = Clock()
    store = await SqliteStore.open(path, clock)

    def at(**ago: float) -> datetime:
        clock.at = NOW - timedelta(**ago)
        return clock.at

    try:
        await inbound(store, CHLOE, "Bonjour", at(days=3), name="Chloé Dubois")
        await inbound(store, CHLOE, "STOP", at(days=2, hours=5), name="Chloé Dubois")
        await inbound(store, CHLOE, "START", at(days=2), name="Chloé Dubois")
        await inbound(store, CHLOE, "Ma commande ?", at(hours=3), name="Chloé Dubois")
        await inbound(store, HOSTILE, "[i]hello", at(hours=30), name="[b]x")
        await store.set_label(HOSTILE, "[b]x", True, "Ben")
        await store.set_label(HOSTILE, "vip", True, "Ben")
        await store.set_opt_state(HOSTILE, OptAction.STOP, "agent [b]Ben")
        await store.add_note(CHLOE, "Ben", "prefers French; [b]VIP[/b] since 2024")
        await store.assign(CHLOE, "Ben", "Ben")  # an assignment is no note: the panel leaves it out
        await store.mark_read(CHLOE)  # nothing unread elsewhere: no notice line behind the panel
    finally:
        await store.close()


def inbox_on(path: Path) -> InboxApp:
    asyncio.run(seed(path))
    settings = Settings.model_validate({"store": {"path": path}, "agent": {"name": AGENT}})
    return InboxApp(attached(settings), clock=lambda: NOW)


@contextlib.asynccontextmanager
async def panel_of(tmp_path: Path, name: str) -> AsyncIterator[tuple[InboxApp, Pilot[None], ContactPanel]]:
    """The panel of `name`'s conversation, open."""
    path = tmp_path / "inbox.db"
    await seed(path)
    settings = Settings.model_validate({"store": {"path": path}, "agent": {"name": AGENT}})
    app = InboxApp(attached(settings), clock=lambda: NOW)
    async with app.run_test(size=(120, 32)) as pilot:
        await settled(pilot)
        await open_conversation(pilot, name)
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, ContactPanel))
        panel = app.screen
        assert isinstance(panel, ContactPanel)
        await until(pilot, lambda: bool(panel.history))
        yield app, pilot, panel


def shown(panel: ContactPanel, selector: str) -> str:
    return str(panel.query_one(selector, Static).render())


async def store_of(app: InboxApp) -> Store:
    assert app.inbox.services is not None
    return app.inbox.services.store


async def test_the_panel_shows_the_customer_and_the_opt_out_history(tmp_path: Path) -> None:
    async with panel_of(tmp_path, "Chloé Dubois") as (_, _pilot, panel):
        facts = shown(panel, "#contact-facts")
        assert "+33612345678" in facts
        assert "Chloé Dubois" in facts
        assert "open, 21:00 left" in facts
        assert "can receive messages" in facts
        history = shown(panel, "#contact-history").splitlines()
        assert len(history) == 2
        assert history[0].startswith("12 Mar 2026 10:00  STOP")
        assert history[1].startswith("12 Mar 2026 15:00  START")
        (note,) = shown(panel, "#contact-notes").splitlines()
        assert note.endswith("Ben  prefers French; [b]VIP[/b] since 2024")  # outside text, as text


async def test_a_manual_opt_out_asks_first_and_records_the_agent(tmp_path: Path) -> None:
    async with panel_of(tmp_path, "Chloé Dubois") as (app, pilot, panel):
        store = await store_of(app)

        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("n")
        await until(pilot, lambda: app.screen is panel)
        assert len(await store.opt_history(CHLOE)) == 2  # asked, and nothing changed

        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")

        history = await eventually(lambda: store.opt_history(CHLOE), lambda events: len(events) == 3)
        assert (history[-1].action, history[-1].source) == ("stop", f"agent {AGENT}")
        contact = await store.get_contact(CHLOE)
        assert contact is not None and contact.opted_out
        await until(pilot, lambda: "opted out" in shown(panel, "#contact-facts"))
        assert f"agent {AGENT}" in shown(panel, "#contact-history").splitlines()[-1]
        assert "Opt back in" in str(panel.query_one("#contact-opt").render())


async def test_labels_are_added_removed_and_show_their_conversations(tmp_path: Path) -> None:
    async with panel_of(tmp_path, "Chloé Dubois") as (app, pilot, panel):
        store = await store_of(app)

        await type_text(pilot, "refund")
        await pilot.press("enter")
        await type_text(pilot, "  late   order ")
        await pilot.press("enter")

        await until(pilot, lambda: panel.labels == ("late order", "refund"))
        (row,) = await store.list_conversations(addresses=[CHLOE])
        assert set(row.labels) == {"refund", "late order"}
        labels = panel.query_one("#contact-labels", OptionList)
        assert [str(option.prompt) for option in labels.options] == ["late order", "refund"]

        labels.focus()
        await pilot.press("down", "delete")  # "refund"
        await until(pilot, lambda: panel.labels == ("late order",))
        (row,) = await store.list_conversations(addresses=[CHLOE])
        assert row.labels == ("late order",)

        await pilot.press("enter")  # its conversations: the list shows only those, until ctrl+v
        await until(pilot, lambda: isinstance(app.screen, InboxScreen))
        await until(pilot, lambda: [c.contact.address for c in app.inbox.conversations] == [CHLOE])
        assert "label late order" in str(app.inbox.query_one("#list-note", Static).render())

        await pilot.press("ctrl+v")
        await until(pilot, lambda: {c.contact.address for c in app.inbox.conversations} == {CHLOE, HOSTILE})


async def test_no_panel_without_a_conversation(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "inbox.db")
    await store.close()
    settings = Settings.model_validate({"store": {"path": tmp_path / "inbox.db"}})
    app = InboxApp(attached(settings), clock=lambda: NOW)
    async with app.run_test(size=(120, 32)) as pilot:
        await settled(pilot)
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)


def steady_cursors(app: InboxApp) -> None:
    """No blinking cursor in a snapshot: it would be on or off by chance."""
    for widget in [*app.inbox.query(Composer), *app.screen.query(Input)]:
        widget.cursor_blink = False


def test_the_contact_panel(snap_compare: object, tmp_path: Path) -> None:
    """A hostile name, label and opt-out source: shown as typed, never as markup."""
    app = inbox_on(tmp_path / "inbox.db")

    async def open_the_panel(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await open_conversation(pilot, "[b]x")
        await pilot.press("ctrl+k")
        await until(pilot, lambda: isinstance(app.screen, ContactPanel))
        panel = app.screen
        assert isinstance(panel, ContactPanel)
        await until(pilot, lambda: len(panel.labels) == 2 and bool(panel.history))
        steady_cursors(app)

    assert snap_compare(app, terminal_size=(120, 32), run_before=open_the_panel)  # type: ignore[operator]
