"""The conversation list: one line per contact, drawn only where visible, so 10,000 stay smooth.

It shows one view of the inbox (`keep` says which rows belong): a changed conversation that no longer
belongs leaves it, one that now does comes in, in its place by latest activity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from time import monotonic

from rich.console import OverflowMethod
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from wa_inbox.domain.models import Conversation, Direction
from wa_inbox.tui.format import display_name, plain, preview, tick, when_label, window_state
from wa_inbox.tui.widgets.keys import InOrderKeys

HOLD_SECONDS = 2.0
"""The list keeps its order this long after the agent's last move in it."""
NAME_WIDTH = 18
"""A row: `● name  preview  when` then the tail, which always shows: unread count, window, ⊘, tick."""
NAME_MIN = 14
"""Room for a whole phone number, the name of a contact without a profile name."""
PREVIEW_MIN = 8
WHEN_WIDTH = 9
WHEN_COMPACT = 6
UNREAD_WIDTH = 3
WINDOW_WIDTH = 6
TICK_WIDTH = 7
LEAD_WIDTH = 2
TAIL_WIDTH = 1 + UNREAD_WIDTH + 1 + WINDOW_WIDTH + 1 + 1 + 1 + TICK_WIDTH


class ConversationList(InOrderKeys, ScrollView, can_focus=True):
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
        Binding("home", "move_to(0)", "Top", show=False),
        Binding("end", "move_to(-1)", "Bottom", show=False),
        Binding("enter", "open", "Open"),
    ]
    DEFAULT_CSS = """
    ConversationList { background: $surface; overflow-x: hidden; }
    ConversationList > .conversation-list--cursor { background: $accent 30%; }
    ConversationList > .conversation-list--unread { text-style: bold; }
    ConversationList > .conversation-list--closing { color: $warning; }
    ConversationList > .conversation-list--closed { color: $error; }
    ConversationList > .conversation-list--opted-out { color: $error; text-style: bold; }
    ConversationList > .conversation-list--failed { color: $error; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted conversation."""
    held: reactive[int] = reactive(0)
    """How many conversations changed while the agent was moving ("N updated"), not yet re-sorted."""

    @dataclass
    class Selected(Message):
        """The agent opened a conversation."""

        address: str

    def __init__(self, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self._rows: list[Conversation] = []
        self._index: dict[str, int] = {}
        self._moved_at = float("-inf")
        self._held: dict[str, Conversation] = {}
        """Conversations changed while the agent was moving; sorted into place at the next pause."""
        self._settling: Timer | None = None
        self.keep: Callable[[Conversation], bool] = lambda conversation: True
        """Which conversations the view shows; changes that fail it leave the list."""
        self.me: str | None = None
        """This inbox's agent: previews say "You:" for their replies, the name for anyone else's."""

    # --- data ---------------------------------------------------------------------------------------

    @property
    def conversations(self) -> list[Conversation]:
        return self._rows

    def load(self, conversations: Iterable[Conversation]) -> None:
        """Replace everything (start-up)."""
        selected = self.selected_address
        self._rows = list(conversations)
        self._reindex(selected)

    def extend(self, page: Iterable[Conversation]) -> None:
        """Append the next page read from the store (below what is shown: nothing moves); a
        conversation the change feed already placed keeps its place."""
        fresh = [c for c in page if c.contact.address not in self._index]
        start = len(self._rows)
        self._rows.extend(fresh)
        self._index.update((c.contact.address, start + i) for i, c in enumerate(fresh))
        self.virtual_size = Size(self.size.width, len(self._rows))
        self.refresh()

    def upsert(self, changed: Iterable[Conversation]) -> None:
        """Merge what the change feed brought, keeping the order by latest activity; while the agent
        is moving through the list, rows change in place and the order waits for a pause."""
        changed = list(changed)
        if self._moving():
            self._hold(changed)
            return
        selected = self.selected_address
        by_address = {c.contact.address: c for c in self._rows}
        by_address.update({c.contact.address: c for c in [*self._held.values(), *changed]})
        self._held.clear()
        self.held = 0
        kept = [c for c in by_address.values() if self.keep(c)]
        self._rows = sorted(kept, key=_activity, reverse=True)
        self._reindex(selected)

    def _moving(self) -> bool:
        return self.has_focus and monotonic() - self._moved_at < HOLD_SECONDS

    def _hold(self, changed: list[Conversation]) -> None:
        for conversation in changed:
            address = conversation.contact.address
            if address in self._index:
                self._rows[self._index[address]] = conversation
            self._held[address] = conversation
        self.held = len(self._held)
        self.refresh()
        if self._settling is None:  # one pending check, however many changes arrive meanwhile
            self._settling = self.set_timer(HOLD_SECONDS, self._settle)

    def _settle(self) -> None:
        """The agent paused: sort what changed meanwhile into place (the cursor stays on its row)."""
        self._settling = None
        if self._held and not self._moving():
            self.upsert([])
        elif self._held:
            self._settling = self.set_timer(HOLD_SECONDS, self._settle)

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
            self.cursor = self._index[selected]
        else:
            self.cursor = min(self.cursor, max(0, len(self._rows) - 1))
        self.refresh()

    # --- keys ---------------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self._moved_at = monotonic()
        if self._rows:
            self.cursor = max(0, min(len(self._rows) - 1, self.cursor + delta))

    def action_move_to(self, index: int) -> None:
        """The first row, or with -1 the last one loaded (the list fills in pages: End again goes on)."""
        self._moved_at = monotonic()
        if self._rows:
            self.cursor = index % len(self._rows)

    def action_open(self) -> None:
        """Opening moves the focus to the composer: the keys typed behind Enter are for it."""
        if (address := self.selected_address) is not None:
            self.hand_over()
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
        """`● name  preview  when  unread window ⊘ tick`: narrower, the preview goes first, then the
        name shrinks and `when` gets compact; the tail always keeps its place."""
        base = self._row_style_for(row, is_cursor)
        now = self._clock()
        label, level = window_state(row.contact.last_inbound_at, now)
        name_width, preview_width, when_width = _columns(width)
        text = Text("● " if row.unread_count else "  ", style=base)
        name = plain(display_name(row.contact), 4 * name_width + 8, one_line=True)
        text.append_text(_cell(name, name_width))
        if preview_width:
            text.append(" ")
            shown = plain(preview(row.last_message, me=self.me), 4 * preview_width + 8, one_line=True)
            text.append_text(_cell(shown, preview_width, cut="crop"))
        if when_width:
            last = row.last_message
            when = when_label(last.created_at, now, compact=when_width < WHEN_WIDTH) if last else ""
            text.append(" ")
            text.append_text(_cell(Text(when), when_width, right=True))
        unread = "99+" if row.unread_count > 99 else str(row.unread_count or "")
        text.append(f" {unread:>{UNREAD_WIDTH}} ")
        text.append_text(_cell(Text(label, style=self._level_style(level)), WINDOW_WIDTH, right=True))
        text.append(" ")
        text.append("⊘" if row.contact.opted_out else " ", style=self._component("opted-out"))
        text.append(" ")
        text.append_text(_cell(Text(self._last_tick(row), style=self._tick_style(row)), TICK_WIDTH))
        text.stylize_before(base)
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


def _columns(width: int) -> tuple[int, int, int]:
    """(name, preview, when) widths, 0 for a column left out, so that the row is `width` cells. As the
    list widens: the name up to a whole phone number, then a compact `when`, the preview, the full
    `when`, the name up to NAME_WIDTH, and the rest to the preview (without one, to the name)."""
    name, preview, when = max(0, width - LEAD_WIDTH - TAIL_WIDTH), 0, 0
    if name >= NAME_MIN + 1 + WHEN_COMPACT:
        name, when = name - 1 - WHEN_COMPACT, WHEN_COMPACT
    if when and name >= NAME_MIN + 1 + PREVIEW_MIN:
        name, preview = name - 1 - PREVIEW_MIN, PREVIEW_MIN
    if preview and name >= NAME_MIN + WHEN_WIDTH - WHEN_COMPACT:
        name, when = name - (WHEN_WIDTH - WHEN_COMPACT), WHEN_WIDTH
    if preview and name > NAME_WIDTH:
        name, preview = NAME_WIDTH, preview + name - NAME_WIDTH
    return name, preview, when


def _cell(text: Text, width: int, right: bool = False, cut: OverflowMethod = "ellipsis") -> Text:
    """`text` in exactly `width` cells: cut (with "…" unless `cut` says "crop"), or padded (on the
    left when `right`)."""
    text.truncate(width, overflow=cut)
    if right:
        text.pad_left(width - text.cell_len)
    else:
        text.pad_right(width - text.cell_len)
    return text


def _activity(conversation: Conversation) -> tuple[bool, int]:
    last = conversation.last_message
    return (last is not None, last.id if last else 0)
