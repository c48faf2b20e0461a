"""Days in the thread and the list: separators before each day's first message, the list's `when`
column, all in the agent's zone; and a list row that keeps its tail (window, ⊘, tick) at 80 columns."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tests.support.tui import (
    inbound,
    list_rows,
    offline_backend,
    outbound,
    rendered,
    settled,
    thread_text,
)
from wa_inbox.domain.models import Contact, Conversation, Direction, Message
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.tui import format as fmt
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.widgets.conversation_list import (
    LEAD_WIDTH,
    TAIL_WIDTH,
    WHEN_COMPACT,
    WHEN_WIDTH,
    ConversationList,
    _columns,
)
from wa_inbox.tui.widgets.thread_view import ThreadView

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)  # a Saturday
ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"
CHLOE = "whatsapp:+33612345678"
DEV = "whatsapp:+919876543210"


class Clock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(autouse=True)
def zone(monkeypatch: pytest.MonkeyPatch) -> Callable[[tzinfo], None]:
    """The agent's zone: UTC unless a test sets another."""
    monkeypatch.setattr(fmt, "ZONE", UTC)
    return lambda tz: monkeypatch.setattr(fmt, "ZONE", tz)


Seeding = Callable[[SqliteStore, Clock], Awaitable[None]]


@contextlib.asynccontextmanager
async def inbox(
    tmp_path: Path, seeding: Seeding, size: tuple[int, int] = (120, 40), clock: Clock | None = None
) -> AsyncIterator[tuple[InboxApp, Pilot[None]]]:
    """The app offline on a database `seeding` wrote (its clock says when each message was made)."""
    path = tmp_path / "inbox.db"
    store_clock = Clock()
    store = await SqliteStore.open(path, store_clock)
    try:
        await seeding(store, store_clock)
    finally:
        await store.close()
    app = InboxApp(offline_backend(path), clock=clock or Clock())
    async with app.run_test(size=size) as pilot:
        await settled(pilot)
        yield app, pilot


async def says(store: SqliteStore, clock: Clock, address: str, body: str, at: datetime, name: str) -> None:
    clock.at = at
    await inbound(store, address, body, at, name=name)


async def replies(store: SqliteStore, clock: Clock, address: str, body: str, at: datetime) -> None:
    clock.at = at
    await outbound(store, address, body, ["queued", "sent", "read"], at)


def separators(text: str) -> list[str]:
    return [line.strip().strip("─").strip() for line in text.splitlines() if "───" in line]


# --- the thread ----------------------------------------------------------------------------------


async def test_a_separator_comes_before_each_days_first_message(tmp_path: Path) -> None:
    async def seeding(store: SqliteStore, clock: Clock) -> None:
        await says(store, clock, ANA, "Last year", datetime(2025, 12, 31, 10, 0, tzinfo=UTC), "Ana")
        await says(store, clock, ANA, "Thursday morning", datetime(2026, 3, 12, 9, 0, tzinfo=UTC), "Ana")
        await replies(store, clock, ANA, "Thursday evening", datetime(2026, 3, 12, 18, 5, tzinfo=UTC))
        await says(store, clock, ANA, "Last night", datetime(2026, 3, 13, 23, 59, tzinfo=UTC), "Ana")
        await replies(store, clock, ANA, "This morning", datetime(2026, 3, 14, 0, 0, tzinfo=UTC))
        await says(store, clock, ANA, "Just now", datetime(2026, 3, 14, 14, 30, tzinfo=UTC), "Ana")

    async with inbox(tmp_path, seeding) as (app, _):
        text = thread_text(app)
        assert separators(text) == ["Wed 31 Dec 2025", "Thu 12 Mar", "Yesterday", "Today"]
        lines = text.splitlines()
        order = ["Wed 31 Dec 2025", "Last year", "Thu 12 Mar", "Thursday morning", "Thursday evening"]
        order += ["Yesterday", "Last night", "Today", "This morning", "Just now"]
        where = [next(i for i, line in enumerate(lines) if words in line) for words in order]
        assert where == sorted(where)
        for time_, words in [("10:00", "Last year"), ("18:05", "Thursday evening"), ("23:59", "Last night")]:
            body = next(i for i, line in enumerate(lines) if words in line)
            assert time_ in lines[body - 1]  # the bubbles keep their HH:MM
        assert lines[where[-2] - 1].rstrip().endswith("00:00 ✓✓")  # ours, this morning


async def test_days_and_times_are_in_the_agents_zone(tmp_path: Path, zone: Callable[[tzinfo], None]) -> None:
    zone(timezone(timedelta(hours=9)))  # NOW is 00:00 on Sunday 15 March there

    async def seeding(store: SqliteStore, clock: Clock) -> None:
        await says(store, clock, ANA, "Late on Saturday", datetime(2026, 3, 14, 14, 30, tzinfo=UTC), "Ana")
        await says(store, clock, ANA, "First on Sunday", datetime(2026, 3, 14, 15, 0, tzinfo=UTC), "Ana")

    async with inbox(tmp_path, seeding) as (app, _):
        text = thread_text(app)
        assert separators(text) == ["Yesterday", "Today"]
        assert "23:30" in text and "00:00" in text
        (row,) = list_rows(app)
        assert "00:00" in row


async def test_past_midnight_today_becomes_yesterday(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 3, 14, 23, 50, tzinfo=UTC))

    async def seeding(store: SqliteStore, store_clock: Clock) -> None:
        await says(store, store_clock, ANA, "Still up?", datetime(2026, 3, 14, 23, 45, tzinfo=UTC), "Ana")

    async with inbox(tmp_path, seeding, clock=clock) as (app, pilot):
        thread = app.inbox.query_one(ThreadView)
        assert separators(thread_text(app)) == ["Today"]
        assert "23:45" in list_rows(app)[0]

        clock.at += timedelta(minutes=20)
        refreshed: list[bool] = []
        original = thread.refresh
        thread.refresh = lambda *a, **k: refreshed.append(True) or original(*a, **k)  # type: ignore[method-assign]
        thread._check_day()  # what its timer runs
        assert refreshed
        await pilot.pause()
        assert separators(thread_text(app)) == ["Yesterday"]
        assert "Yest." in list_rows(app)[0]


# --- the list ------------------------------------------------------------------------------------


async def seed_four_days(store: SqliteStore, clock: Clock) -> None:
    await says(store, clock, DEV, "Last year", datetime(2025, 11, 23, 9, 0, tzinfo=UTC), "Dev Patel")
    await says(store, clock, CHLOE, "Thursday", datetime(2026, 3, 12, 9, 0, tzinfo=UTC), "Chloé Dubois")
    await says(store, clock, BEN, "Yesterday", datetime(2026, 3, 13, 9, 0, tzinfo=UTC), "Ben Carter")
    await says(store, clock, ANA, "Today", datetime(2026, 3, 14, 14, 5, tzinfo=UTC), "Ana Silva")


@pytest.mark.parametrize(
    ("size", "whens"),
    [
        ((160, 24), ["14:05", "Yesterday", "12 Mar", "Nov 2025"]),
        ((120, 24), ["14:05", "Yest.", "12 Mar", "2025"]),
    ],
)
async def test_the_list_says_when_the_last_message_came(
    tmp_path: Path, size: tuple[int, int], whens: list[str]
) -> None:
    async with inbox(tmp_path, seed_four_days, size=size) as (app, _):
        rows = list_rows(app)
        assert [row[2:5] for row in rows] == ["Ana", "Ben", "Chl", "Dev"]
        for row, when in zip(rows, whens, strict=True):
            assert f" {when} " in row


async def test_at_80_columns_every_row_keeps_its_window_mark_and_tick(tmp_path: Path) -> None:
    """Long names and previews give way: the countdown, ⊘ and "✗ 63016" stay whole."""
    long_name = "Maximilian " * 1000

    async def seeding(store: SqliteStore, clock: Clock) -> None:
        await says(store, clock, BEN, "Where is it?", NOW - timedelta(hours=30), "Ben Carter")
        await says(store, clock, CHLOE, "STOP", NOW - timedelta(hours=2), "Chloé Dubois")
        await says(store, clock, ANA, "word " * 2000, NOW - timedelta(minutes=30), long_name)
        clock.at = NOW - timedelta(minutes=20)
        await outbound(store, ANA, "A long reply " * 50, ["queued", "sent", "failed"], clock.at, 63016)

    async with inbox(tmp_path, seeding, size=(80, 24)) as (app, _):
        width = app.inbox.query_one(ConversationList).scrollable_content_region.width
        rows = list_rows(app)
        assert len(rows) == 3
        assert all(cell_len(row) == width for row in rows)
        ana, chloe, ben = rows
        assert ana[2:].startswith("Maximilian Max") and "…" in ana
        assert ana.rstrip().endswith("23:30   ✗ 63016")
        assert chloe.rstrip().endswith("22:00 ⊘")
        assert ben.rstrip().endswith("closed")


def test_the_row_always_adds_up_to_the_width() -> None:
    for width in range(LEAD_WIDTH + TAIL_WIDTH, 200):
        name, preview, when = _columns(width)
        used = LEAD_WIDTH + name + (preview and 1 + preview) + (when and 1 + when) + TAIL_WIDTH
        assert used == width, width
        assert when in (0, WHEN_COMPACT, WHEN_WIDTH)
    assert _columns(39) == (16, 0, 0)  # 80 columns: the whole name, nothing else
    assert _columns(53)[0] >= 14  # 120 columns: a whole phone number still


# --- drawing stays O(visible) ------------------------------------------------------------------------


class Harness(App[None]):
    def __init__(self, widget: ConversationList | ThreadView) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def message(i: int, at: datetime) -> Message:
    return Message(
        i, f"SM{i:032x}", Direction.INBOUND, ANA, ANA, None, f"message {i}", "received", None, None, "text",
        (), None, None, None, {}, None, None, None, at, at, None,
    )  # fmt: skip


async def test_only_the_visible_rows_are_drawn() -> None:
    conversations = [
        Conversation(
            Contact(f"whatsapp:+1415555{i:04d}", f"Name {i}", None, NOW, False, None, None),
            message(i, NOW - timedelta(hours=i)),
            0,
            None,
        )
        for i in range(10_000)
    ]
    widget = ConversationList(Clock())
    async with Harness(widget).run_test(size=(80, 20)) as pilot:
        widget.load(conversations)
        await pilot.pause()
        assert not widget.show_horizontal_scrollbar  # rows fit the width: no row lost to one
        drawn: list[int] = []
        original = widget._row
        widget._row = lambda row, *a: drawn.append(1) or original(row, *a)  # type: ignore[method-assign]
        widget.refresh()
        await pilot.pause()
        assert 0 < len(drawn) <= 3 * 20


async def test_the_thread_draws_only_its_visible_lines() -> None:
    widget = ThreadView(Clock())
    async with Harness(widget).run_test(size=(80, 20)) as pilot:
        widget.show([message(i, NOW - timedelta(hours=10 * (500 - i))) for i in range(500)], complete=True)
        await pilot.pause()
        drawn: list[int] = []
        original = widget.render_line
        widget.render_line = lambda y: drawn.append(y) or original(y)  # type: ignore[method-assign]
        widget.refresh()
        await pilot.pause()
        assert 0 < len(drawn) <= 3 * 20
        assert len(separators("\n".join(rendered(widget)))) >= 1
