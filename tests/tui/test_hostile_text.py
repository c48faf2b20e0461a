"""Names, bodies and extras from outside are drawn as text: never markup, no escape reaches the terminal,
and a 10,000-character one costs no more than a short one."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.support.tui import (
    inbound,
    list_rows,
    offline_backend,
    open_conversation,
    record,
    settled,
    thread_text,
    until,
)
from wa_inbox.domain.models import InboundMessage, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.testing import BUSINESS
from wa_inbox.tui import format as fmt
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.format import sanitize
from wa_inbox.tui.screens.failed import FailedMessageScreen
from wa_inbox.tui.screens.search import SearchScreen
from wa_inbox.tui.screens.template_picker import TemplatePicker
from wa_inbox.tui.widgets.conversation_list import ConversationList
from wa_inbox.tui.widgets.thread_view import ThreadView

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
HOSTILE = [
    "[/x]",
    "[@click=app.quit]x[/]",
    "[b]",
    "[",
    "]x[/b][i",
    "[link=https://evil.example]pay here[/link]",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;owned\x07title",
    "rtl \u202egnp.exe",
    "zero\u200bwidth",
    "tab\tand\rreturn",
    "x" * 10_000,
]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "ZONE", UTC)


def address(i: int) -> str:
    return f"whatsapp:+1415555{i:04d}"


@contextlib.asynccontextmanager
async def hostile_inbox(tmp_path: Path) -> AsyncIterator[tuple[InboxApp, Pilot[None]]]:
    """A conversation per hostile string: it is the customer's profile name and their message."""
    path = tmp_path / "inbox.db"
    store = await SqliteStore.open(path, lambda: NOW)
    try:
        for i, text in enumerate(HOSTILE):
            await inbound(store, address(i), text, NOW - timedelta(minutes=len(HOSTILE) - i), name=text)
    finally:
        await store.close()
    app = InboxApp(offline_backend(path), clock=lambda: NOW)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(pilot)
        yield app, pilot


def shown(text: str, width: int) -> str:
    """What a column of `width` cells shows of `text`."""
    clean = sanitize(text, 4 * width + 8, one_line=True)
    return clean if cell_len(clean) <= width else clean[: width - 1] + "…"


def no_markup_reached(widget: ConversationList | ThreadView) -> None:
    """No link, click action or escape came out of any drawn line."""
    for y in range(widget.size.height):
        for segment in widget.render_line(y):
            assert "\x1b" not in segment.text and "\x07" not in segment.text
            assert segment.style is None or (not segment.style.meta and segment.style.link is None)


async def test_the_list_shows_names_and_previews_as_they_are(tmp_path: Path) -> None:
    async with hostile_inbox(tmp_path) as (app, _):
        assert app.is_running
        rows = list_rows(app)
        assert len(rows) == len(HOSTILE)
        width = app.inbox.query_one(ConversationList).scrollable_content_region.width
        assert all(cell_len(row) == width for row in rows)
        for text in HOSTILE:
            assert any(shown(text, 18) in row for row in rows), text
        assert any("[@click=app.quit]x[/]" in row for row in rows)  # the whole preview
        assert any("␛[31mred␛[0m" in row for row in rows)
        assert all(" 23:4" in row or " 23:5" in row for row in rows)  # every window countdown
        no_markup_reached(app.inbox.query_one(ConversationList))


async def test_the_thread_shows_each_body_as_it_is(tmp_path: Path) -> None:
    async with hostile_inbox(tmp_path) as (app, pilot):
        thread = app.inbox.query_one(ThreadView)
        for text in HOSTILE:
            await open_conversation(pilot, text)
            assert app.is_running
            drawn = thread_text(app)
            expected = sanitize(text)
            assert expected[:60] in drawn, text
            no_markup_reached(thread)
        assert app.is_running and app.return_code is None


async def test_extras_from_outside_are_text_too(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    store = await SqliteStore.open(path, lambda: NOW)
    try:
        quoted = await inbound(store, address(0), "[b]the [/b] original\x1b[2J", NOW - timedelta(hours=1))
        sid = "SM" + secrets.token_hex(16)
        message = InboundMessage(
            sid,
            address(0),
            BUSINESS,
            "reply body",
            profile_name="[@click=app.quit]Ana[/]",
            referral={"ReferralHeadline": "[link=https://evil.example]Sale[/link]\u202e"},
            replied_to_sid=quoted,
        )
        await store.ingest_inbound(message, record(WebhookKind.INBOUND, sid, NOW))
    finally:
        await store.close()
    app = InboxApp(offline_backend(path), clock=lambda: NOW)
    async with app.run_test(size=(200, 32)) as pilot:
        await settled(pilot)
        drawn = thread_text(app)
        assert "📣 from an ad: [link=https://evil.example]Sale[/link]␚" in drawn
        assert "↩ [b]the [/b] original␛[2J" in drawn
        no_markup_reached(app.inbox.query_one(ThreadView))
        assert app.is_running


SWEEP = ["[/x]", "[@click=app.quit]x[/]", "[b]", "]x[/b][i", "\x1b[31mred", "rtl \u202egnp", "y" * 10_000]
"""The strings the other screens see: a customer's name and body, a forged SID, a template's text."""


def visible(widget: Static) -> str:
    return str(widget.render())


async def test_every_other_screen_shows_outside_text_as_text(tmp_path: Path) -> None:
    """Header, notice line, go-to, search, rejected webhooks, failed-message details, template picker."""
    path = tmp_path / "inbox.db"
    store = await SqliteStore.open(path, lambda: NOW)
    try:
        for i, text in enumerate(SWEEP):
            await inbound(store, address(i), text, NOW - timedelta(minutes=i + 1), name=text)
            forged = WebhookRecord(
                WebhookKind.STATUS, "/twilio/status", Verdict.FORBIDDEN, text, {}, NOW, text, text
            )
            await store.log_rejection(forged)
    finally:
        await store.close()
    app = InboxApp(offline_backend(path), clock=lambda: NOW)
    async with app.run_test(size=(160, 40)) as pilot:
        await settled(pilot)
        inbox = app.inbox
        for i, text in enumerate(SWEEP):
            shown_text = sanitize(text, 30, one_line=True)[:20]
            inbox.open(address(i))
            await settled(pilot)
            assert shown_text in visible(inbox.query_one("#thread-header", Static)), text
            inbox.notices.announce(address((i + 1) % len(SWEEP)), text, text)
            await pilot.pause()
            assert shown_text in visible(inbox.notices), text

            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            app.screen.query_one(Input).value = text[:50]
            await pilot.pause(0.2)
            await pilot.press("escape")

            await pilot.press("ctrl+g")
            await pilot.pause(0.1)
            await pilot.press(*"rtl", "escape")

            assert inbox.services is not None and inbox.contact is not None
            templates = [TemplateInfo("HX" + "0" * 32, text, "en", "twilio/text", f"Hi {text} {{{{1}}}}")]
            await app.push_screen(TemplatePicker(inbox.services, inbox.contact, lambda: NOW, templates))
            await until(pilot, lambda: bool(app.screen.query("#var-1")))
            assert shown_text in visible(app.screen.query_one("#picker-preview", Static)), text
            await pilot.press("escape")

            failed = inbox.query_one(ThreadView).messages[-1]
            await app.push_screen(FailedMessageScreen(replace(failed, status="failed", error_message=text)))
            await pilot.pause()
            await pilot.press("escape")
            assert app.is_running, text

        await pilot.press("ctrl+r")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == len(SWEEP))
        await pilot.press("escape")
        assert app.is_running and app.return_code is None
