"""The conversation list: one line per contact, drawn only where visible, so 10,000 stay smooth."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wa_inbox.domain.models import Conversation, Direction
from wa_inbox.tui.format import display_name, preview, tick, window_state

NAME_WIDTH = 18
TAIL_WIDTH = 23


class ConversationList(ScrollView, can_focus=True):
    """Sorted by latest activity; posts `Selected` when the agent opens a conversation."""

    COMPONENT_CLASSES = {
        "conversation-list--cursor",
        "conversation-list--unread",
        "conversation-list--closing",
        "conversation-list--closed",
        "conversation-list--opted-out",
        "conversation-list--failed",
    }
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("enter", "open", "Open"),
    ]
    DEFAULT_CSS = """
    ConversationList { background: $surface; }
    ConversationList > .conversation-list--cursor { background: $accent 30%; }
    ConversationList > .conversation-list--unread { text-style: bold; }
    ConversationList > .conversation-list--closing { color: $warning; }
    ConversationList > .conversation-list--closed { color: $error; }
    ConversationList > .conversation-list--opted-out { color: $error; text-style: bold; }
    ConversationList > .conversation-list--failed { color: $error; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted conversation."""

    @dataclass
    class Selected(Message):
        """The agent opened a conversation."""

        address: str

    def __init__(self, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._clock = clock
        self._rows: list[Conversation] = []
        self._index: dict[str, int] = {}

    # --- data ---------------------------------------------------------------------------------------

    @property
    def conversations(self) -> list[Conversation]:
        return self._rows

    def load(self, conversations: Iterable[Conversation]) -> None:
        """Replace everything (start-up)."""
        selected = self.selected_address
        self._rows = list(conversations)
        self._reindex(selected)

    def upsert(self, changed: Iterable[Conversation]) -> None:
        """Merge what the change feed brought, keeping the order by latest activity."""
        selected = self.selected_address
        by_address = {c.contact.address: c for c in self._rows}
        by_address.update({c.contact.address: c for c in changed})
        self._rows = sorted(by_address.values(), key=_activity, reverse=True)
        self._reindex(selected)

    @property
    def selected_address(self) -> str | None:
        return self._rows[self.cursor].contact.address if 0 <= self.cursor < len(self._rows) else None

    def select(self, address: str) -> None:
        if address in self._index:
            self.cursor = self._index[address]

    def _reindex(self, selected: str | None) -> None:
        self._index = {c.contact.address: i for i, c in enumerate(self._rows)}
        self.virtual_size = Size(self.size.width, len(self._rows))
        if selected in self._index:
            self.cursor = self._index[selected]  # type: ignore[index]
        else:
            self.cursor = min(self.cursor, max(0, len(self._rows) - 1))
        self.refresh()

    # --- keys ---------------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        if self._rows:
            self.cursor = max(0, min(len(self._rows) - 1, self.cursor + delta))

    def action_open(self) -> None:
        if (address := self.selected_address) is not None:
            self.post_message(self.Selected(address))

    def watch_cursor(self, cursor: int) -> None:
        self.scroll_to_region_line(cursor)
        self.refresh()

    def scroll_to_region_line(self, line: int) -> None:
        top, height = int(self.scroll_offset.y), self.scrollable_content_region.height
        if line < top:
            self.scroll_to(y=line, animate=False)
        elif height and line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False)

    def on_click(self, event: events.Click) -> None:
        index = event.y + int(self.scroll_offset.y)
        if 0 <= index < len(self._rows):
            self.cursor = index
            self.action_open()

    # --- drawing ------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + int(self.scroll_offset.y)
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        text = self._row(self._rows[index], index == self.cursor, width)
        segments = list(text.render(self.app.console))
        return Strip(segments).adjust_cell_length(width, self._row_style(index))

    def _row(self, row: Conversation, is_cursor: bool, width: int) -> Text:
        base = self._row_style_for(row, is_cursor)
        label, level = window_state(row.contact.last_inbound_at, self._clock())
        mark = "●" if row.unread_count else " "
        name = display_name(row.contact)[:NAME_WIDTH].ljust(NAME_WIDTH)
        text = Text(f"{mark} {name} ", style=base)
        room = max(0, width - len(text) - TAIL_WIDTH)
        text.append(preview(row.last_message)[: max(0, room - 1)].ljust(room), style=base)
        text.append(f"{row.unread_count or '':>3} ", style=base)
        text.append(f"{label:>6} ", style=base + self._level_style(level))
        text.append("⊘ " if row.contact.opted_out else "  ", style=base + self._component("opted-out"))
        text.append(self._last_tick(row).ljust(8), style=base + self._tick_style(row))
        return text

    def _last_tick(self, row: Conversation) -> str:
        last = row.last_message
        return tick(last) if last is not None and last.direction is Direction.OUTBOUND else ""

    def _tick_style(self, row: Conversation) -> Style:
        failed = row.last_message is not None and self._last_tick(row).startswith("✗")
        return self._component("failed") if failed else Style()

    def _level_style(self, level: str) -> Style:
        return self._component(level) if level in ("closing", "closed") else Style()

    def _row_style_for(self, row: Conversation, is_cursor: bool) -> Style:
        style = self.rich_style
        if row.unread_count:
            style += self._component("unread")
        if is_cursor:
            style += self._component("cursor")
        return style

    def _row_style(self, index: int) -> Style:
        return self._component("cursor") if index == self.cursor else self.rich_style

    def _component(self, name: str) -> Style:
        return self.get_component_rich_style(f"conversation-list--{name}", partial=True)


def _activity(conversation: Conversation) -> tuple[bool, int]:
    last = conversation.last_message
    return (last is not None, last.id if last else 0)
