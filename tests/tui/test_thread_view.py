"""The thread's own interface: what the screen asks of it to find a message (a search hit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from tests.support.tui import rendered
from wa_inbox.domain.models import Direction, Message
from wa_inbox.tui.widgets.thread_view import ThreadView

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


class Harness(App[None]):
    def __init__(self, thread: ThreadView) -> None:
        super().__init__()
        self.thread = thread

    def compose(self) -> ComposeResult:
        yield self.thread


def message(i: int) -> Message:
    at = NOW - timedelta(minutes=200 - i)
    return Message(
        i, f"SM{i:032x}", Direction.INBOUND, "whatsapp:+1", "whatsapp:+1", None, f"message number {i}",
        "received", None, None, "text", (), None, None, None, {}, None, None, None, at, at, None,
    )  # fmt: skip


async def test_reveal_picks_a_loaded_message_and_scrolls_to_it() -> None:
    thread = ThreadView(lambda: NOW)
    async with Harness(thread).run_test(size=(80, 20)) as pilot:
        assert thread.oldest_id is None
        thread.show([message(i) for i in range(100, 200)], complete=False)
        await pilot.pause()
        assert thread.oldest_id == 100 and not thread.complete
        assert "message number 199" in "\n".join(rendered(thread))

        assert not thread.reveal(42)  # on an older page, not loaded
        assert thread.reveal(110)
        await pilot.pause()
        assert thread.selected == 10
        assert "message number 110" in "\n".join(rendered(thread))

        thread.prepend([message(i) for i in range(50, 100)], complete=True)
        assert thread.oldest_id == 50 and thread.complete
        assert thread.selected == 60  # still message 110


async def test_a_long_thread_opens_at_its_newest_message_without_a_sideways_scrollbar() -> None:
    thread = ThreadView(lambda: NOW)
    async with Harness(thread).run_test(size=(80, 20)) as pilot:
        thread.show([message(i) for i in range(100, 150)], complete=False)
        await pilot.pause()
        assert thread.is_vertical_scroll_end and thread.scroll_offset.y > 0
        assert "message number 149" in rendered(thread)[-2]
        assert not thread.show_horizontal_scrollbar


async def test_a_change_to_a_message_older_than_the_page_leaves_the_thread_in_order() -> None:
    """Opening marks every message read: those older than the page must not land at its bottom."""
    thread = ThreadView(lambda: NOW)
    async with Harness(thread).run_test(size=(80, 20)) as pilot:
        thread.show([message(i) for i in range(150, 200)], complete=False)
        await pilot.pause()
        thread.action_pick(-1)
        assert thread.selected == 49
        thread.merge([message(i) for i in range(100, 200)])
        assert [m.id for m in thread.messages] == list(range(150, 200))
        assert thread.new_below == 0

        thread.merge([message(201), message(200)])  # new ones, in any order
        await pilot.pause()
        assert [m.id for m in thread.messages] == list(range(150, 202))
        assert thread.selected == 49 and thread.messages[49].id == 199
        assert "message number 201" in "\n".join(rendered(thread))

        thread.prepend([message(i) for i in range(100, 150)], complete=True)
        assert [m.id for m in thread.messages] == list(range(100, 202))
        assert thread.messages[thread.selected or 0].id == 199
