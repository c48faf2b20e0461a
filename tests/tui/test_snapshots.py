"""What the agent sees, screen by screen: SVG snapshots of a seeded inbox at a fixed time, no network.

Regenerate with `pytest tests/tui --snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.tui import (
    AGENT,
    inbound,
    offline_backend,
    open_conversation,
    outbound,
    settled,
    template_info,
    type_text,
    until,
)
from wa_inbox.emulator.templates import TEMPLATES
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.screens.template_picker import TemplatePicker
from wa_inbox.tui.widgets.conversation_list import ConversationList

SnapCompare = Callable[..., bool]

FIXED_NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
SIZE = (120, 32)
DEV = "whatsapp:+919876543210"
ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"
CHLOE = "whatsapp:+33612345678"
EVE = "whatsapp:+4915112345678"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Message times are drawn in local time: make that UTC, and put the zone back afterwards."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


class Clock:
    """The store's clock while seeding: outbound messages are created `at` whatever it is set to."""

    def __init__(self) -> None:
        self.at = FIXED_NOW

    def __call__(self) -> datetime:
        return self.at


async def seed(path: Path) -> None:
    """One inbox with every state worth seeing, written through the store as the receiver would."""
    clock = Clock()
    store = await SqliteStore.open(path, clock)

    def ago(**delta: float) -> datetime:
        clock.at = FIXED_NOW - timedelta(**delta)
        return clock.at

    try:
        await store.record_agent(AGENT)  # at work before the customers wrote: their messages are unread
        await inbound(store, CHLOE, "STOP", ago(days=2), name="Chloé Dubois")
        await inbound(store, BEN, "Can I change my delivery address?", ago(hours=30), name="Ben Carter")
        await inbound(store, ANA, "Oi, meu pedido não chegou", ago(hours=23, minutes=40), name="Ana Silva")
        await outbound(store, ANA, "Olá Ana! Vou verificar agora.", ["queued", "read"], ago(hours=23))
        await inbound(store, EVE, "Do you ship to Canada?", ago(hours=2), name="Eve Becker")
        await inbound(store, DEV, "Is the blue one back in stock?", ago(minutes=50), name="Dev Patel")
        await outbound(store, DEV, "Let me check the warehouse.", ["queued", "sent", "read"], ago(minutes=45))
        await outbound(store, DEV, "It's back, in M and L.", ["queued", "sent", "delivered"], ago(minutes=40))
        await outbound(store, DEV, "Shall I reserve one?", ["queued", "sent"], ago(minutes=35))
        await outbound(
            store, DEV, "Here is the link.", ["queued", "sent", "undelivered"], ago(minutes=20), 30008
        )
        await outbound(store, DEV, "Sending the invoice now.", ["queued"], ago(minutes=10))
        await outbound(store, DEV, "And a receipt.", [], ago(minutes=2))  # still in the outbox
    finally:
        await store.close()


async def empty(path: Path) -> None:
    store = await SqliteStore.open(path)
    await store.close()


def inbox_on(path: Path, seeding: Callable[[Path], Coroutine[Any, Any, None]] = seed) -> InboxApp:
    """The app on a database seeded beforehand, at FIXED_NOW, offline."""
    asyncio.run(seeding(path))
    return InboxApp(offline_backend(path), clock=lambda: FIXED_NOW)


def test_empty_inbox(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(inbox_on(tmp_path / "inbox.db", empty), terminal_size=SIZE, run_before=settled)


def test_populated_inbox(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Newest first, unread marks and counts, window countdowns (amber, closed), ⊘, last ticks."""
    assert snap_compare(inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=settled)


def test_thread_with_every_tick(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """🕓 in the outbox, 🕓 queued, ✓ sent, ✓✓ delivered, ✓✓ read (accent), ✗ 30008; the ✗ one picked."""

    async def pick_the_failed_message(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("ctrl+o", "tab", "up", "up", "up")

    assert snap_compare(
        inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=pick_the_failed_message
    )


def test_window_closed_banner(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def open_ben(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await open_conversation(pilot, "Ben Carter")

    assert snap_compare(inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=open_ben)


def test_opted_out_contact(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def open_chloe(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await open_conversation(pilot, "Chloé Dubois")

    assert snap_compare(inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=open_chloe)


def test_failed_message_details(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def open_the_failed_message(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("ctrl+o", "tab", "up", "up", "up", "enter")
        await until(pilot, lambda: pilot.app.screen.query("#failed-action").first() is not None)

    assert snap_compare(
        inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=open_the_failed_message
    )


def test_template_picker_with_preview(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Window closed: approved templates only; the first variable typed in, the second still {{2}}."""

    async def pick_a_template(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, InboxApp)
        await settled(pilot)
        await open_conversation(pilot, "Ben Carter")
        assert app.inbox.services is not None and app.inbox.contact is not None
        templates = [template_info(t) for t in TEMPLATES]
        picker = TemplatePicker(app.inbox.services, app.inbox.contact, lambda: FIXED_NOW, templates)
        await app.push_screen(picker)
        await until(pilot, lambda: bool(picker.query("#var-1")))
        await pilot.click("#var-1")
        await type_text(pilot, "Ben")

    assert snap_compare(inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=pick_a_template)


def test_help_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert snap_compare(inbox_on(tmp_path / "inbox.db"), press=["f1"], terminal_size=SIZE, run_before=settled)


def test_notice_line_and_a_held_list(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """A new message elsewhere on the line above the thread (never over the composer), and the list
    holding its order while the agent moves ("1 updated"), with a draft in the composer."""

    async def write_while_news_comes(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, InboxApp)
        await settled(pilot)
        await open_conversation(pilot, "Dev Patel")
        await type_text(pilot, "A draft that stays in view")
        app.inbox.notices.announce(EVE, "Eve Becker", "Is the order ready for pickup?")
        await pilot.press("escape", "down")
        conversations = app.inbox.query_one("#conversations", ConversationList)
        held = next(c for c in conversations.conversations if c.contact.address == BEN)
        conversations.upsert([held])

    assert snap_compare(
        inbox_on(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=write_while_news_comes
    )


def test_small_terminal(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """80x24: the list keeps countdowns, ⊘ and tick codes; the footer keeps quit and help."""
    assert snap_compare(inbox_on(tmp_path / "inbox.db"), terminal_size=(80, 24), run_before=settled)
