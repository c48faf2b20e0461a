"""One conversation as bubbles, drawn line by line: only the loaded pages, only the visible lines.

A separator ("Today", "Yesterday", "Mon 23 Nov") comes before the first message of each day, days in
the agent's zone (`format.ZONE`). It follows new messages while the agent is at the bottom; otherwise
it counts them ("N new"). Every outside string is drawn as text (`format.plain`), never as markup.

The team's lines that are not messages (`domain.team.ThreadEvent`) are merged in by time: assignments,
status and label changes as centred sentences, internal notes as blocks of their own in the middle,
"🔒 note · ana" on top, in a colour no message has: never on the customer's side nor on ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wa_inbox.domain.models import Direction, Message
from wa_inbox.domain.status import FAILED
from wa_inbox.domain.team import EventKind, ThreadEvent
from wa_inbox.tui.format import (
    agent_name,
    day_label,
    describe_extras,
    event_sentence,
    local,
    plain,
    sender_label,
    tick,
)
from wa_inbox.tui.widgets.keys import InOrderKeys

BODY_LIMIT = 4096
"""Characters of a body drawn: WhatsApp's own limit for a text; anything longer ends in "…"."""
DAY_CHECK_SECONDS = 30.0
NOTE_LIMIT = 4096
"""Characters of a note drawn."""


@dataclass(frozen=True, slots=True)
class _Line:
    text: Text
    message_index: int
    align_right: bool
    day: date | None = None
    """Set on a day separator: its label ("Today"…) is written when drawn, so it moves on at midnight."""
    centre: bool = False
    """A team line (an event, a note): drawn in the middle of the thread."""


class ThreadView(InOrderKeys, ScrollView, can_focus=True):
    """Bubbles with times and ticks; arrows pick a message, enter asks for its details."""

    COMPONENT_CLASSES = {
        "thread-view--inbound",
        "thread-view--outbound",
        "thread-view--meta",
        "thread-view--read",
        "thread-view--failed",
        "thread-view--selected",
        "thread-view--day",
        "thread-view--event",
        "thread-view--note",
        "thread-view--note-head",
        "thread-view--author",
    }
    BINDINGS = [
        Binding("up,k", "pick(-1)", "Previous", show=False),
        Binding("down,j", "pick(1)", "Next", show=False),
        Binding("enter", "details", "Details"),
        Binding("o", "open_media", "Open attachment", show=False),
        Binding("p", "preview_image", "Preview image", show=False),
        Binding("end", "follow", "Latest", show=False),
    ]
    DEFAULT_CSS = """
    ThreadView { background: $background; overflow-x: hidden; scrollbar-gutter: stable; }
    ThreadView > .thread-view--inbound { background: $panel; }
    ThreadView > .thread-view--outbound { background: $primary 25%; }
    ThreadView > .thread-view--meta { color: $text-muted; }
    ThreadView > .thread-view--read { color: $accent; }
    ThreadView > .thread-view--failed { color: $error; text-style: bold; }
    ThreadView > .thread-view--selected { text-style: reverse; }
    ThreadView > .thread-view--day { color: $text-muted; }
    ThreadView > .thread-view--event { color: $text-muted; text-style: italic; }
    ThreadView > .thread-view--note { background: $warning 20%; }
    ThreadView > .thread-view--note-head { background: $warning 35%; text-style: bold; }
    ThreadView > .thread-view--author { color: $text-accent; text-style: bold; }
    """

    selected: reactive[int | None] = reactive(None)
    """Index (in `messages`) of the message the agent picked, if any."""
    new_below: reactive[int] = reactive(0)
    """Messages that arrived while the agent was reading further up."""

    @dataclass
    class DetailsRequested(TextualMessage):
        message: Message

    @dataclass
    class OpenMedia(TextualMessage):
        """Open a downloaded attachment with the system's viewer."""

        path: str

    @dataclass
    class PreviewImage(TextualMessage):
        """Show a downloaded image inside the terminal."""

        path: str

    @dataclass
    class OlderWanted(TextualMessage):
        """The agent reached the top: load the page before `before_id`."""

        before_id: int

    def __init__(self, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self.messages: list[Message] = []
        self.events: list[ThreadEvent] = []
        """Notes, assignments, status and label changes, oldest first (merged with messages by time)."""
        self.me: str | None = None
        """This inbox's agent: their own replies carry no name; everyone else's do."""
        self._lines: list[_Line] = []
        self._built_width = 0
        self._complete = False
        self._today: date | None = None
        """The agent's today when the separators were last drawn."""

    # --- data ---------------------------------------------------------------------------------------

    def show(self, messages: Iterable[Message], complete: bool, events: Iterable[ThreadEvent] = ()) -> None:
        """A freshly opened conversation, newest page; `complete` when there is nothing older."""
        self.messages = list(messages)
        self.events = sorted(events, key=_event_order)
        self._complete = complete
        self.selected = None
        self.new_below = 0
        self._rebuild()
        self._to_end()

    def prepend(self, older: list[Message], complete: bool) -> None:
        """An older page, keeping the agent's place on screen."""
        before = len(self._lines)
        self.messages = older + self.messages
        self._complete = complete
        if self.selected is not None:
            self.selected += len(older)
        self._rebuild()
        y = self.scroll_offset.y + len(self._lines) - before
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def merge(self, changed: Iterable[Message]) -> None:
        """New messages and new ticks from the change feed. One older than the loaded pages (marked
        read, say) is left for its own page to bring, in its place."""
        at_bottom = self.is_vertical_scroll_end
        position = {m.id: i for i, m in enumerate(self.messages)}
        oldest = self.messages[0].id if self.messages and not self._complete else None
        fresh: list[Message] = []
        for message in changed:
            if message.id in position:
                self.messages[position[message.id]] = message
            elif oldest is None or message.id > oldest:
                fresh.append(message)
        if fresh:
            picked = self.messages[self.selected].id if self.selected is not None else None
            self.messages = sorted([*self.messages, *fresh], key=lambda m: m.id)
            if picked is not None:
                self.selected = next(i for i, m in enumerate(self.messages) if m.id == picked)
        added = len(fresh)
        self._rebuild()
        if at_bottom:
            self._to_end()
        else:
            self.new_below += added

    def merge_events(self, changed: Iterable[ThreadEvent]) -> None:
        """New notes and changes from the change feed, in their place by time."""
        known = {event.id for event in self.events}
        fresh = [event for event in changed if event.id not in known]
        if not fresh:
            return
        at_bottom = self.is_vertical_scroll_end
        self.events = sorted([*self.events, *fresh], key=_event_order)
        self._rebuild()
        if at_bottom:
            self._to_end()
        else:
            self.new_below += len(fresh)

    @property
    def complete(self) -> bool:
        """Nothing is older than the loaded pages."""
        return self._complete

    @property
    def oldest_id(self) -> int | None:
        """The oldest loaded message: `OlderWanted` asks for the page before it."""
        return self.messages[0].id if self.messages else None

    def reveal(self, message_id: int) -> bool:
        """Pick the message `message_id` and scroll it into view; False when it is not loaded (yet)."""
        index = next((i for i, message in enumerate(self.messages) if message.id == message_id), None)
        if index is None:
            return False
        self.selected = index
        self._reveal(index)
        return True

    def _to_end(self) -> None:
        """To the newest line now, even when the content only just outgrew the view: Textual allows
        a scroll only once the scrollbar shows, which is after the next layout, hence `force`."""
        self.scroll_end(animate=False, immediate=True, force=True)

    # --- keys ---------------------------------------------------------------------------------------

    def action_pick(self, delta: int) -> None:
        if not self.messages:
            return
        current = len(self.messages) if self.selected is None else self.selected
        self.selected = max(0, min(len(self.messages) - 1, current + delta))
        self._reveal(self.selected)

    def action_details(self) -> None:
        if self.selected is not None:
            self.post_message(self.DetailsRequested(self.messages[self.selected]))

    def action_open_media(self) -> None:
        if self.selected is None:
            return
        downloaded = [m.local_path for m in self.messages[self.selected].media if m.local_path]
        if downloaded:
            self.post_message(self.OpenMedia(downloaded[0]))
        else:
            self.notify("This message has no downloaded attachment yet.", severity="warning")

    def action_preview_image(self) -> None:
        if self.selected is None:
            return
        media = self.messages[self.selected].media
        images = [m.local_path for m in media if m.local_path and m.content_type.startswith("image/")]
        if images:
            self.post_message(self.PreviewImage(images[0]))
        else:
            self.notify("This message has no downloaded image.", severity="warning")

    def action_follow(self) -> None:
        self.selected = None
        self.new_below = 0
        self.scroll_end(animate=False)

    def watch_selected(self) -> None:
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.is_vertical_scroll_end:
            self.new_below = 0
        if new <= 0 and not self._complete and self.messages:
            self.post_message(self.OlderWanted(self.messages[0].id))

    def _reveal(self, index: int) -> None:
        lines = [y for y, line in enumerate(self._lines) if line.message_index == index]
        if lines:
            self.scroll_to_region_lines(lines[0], lines[-1])

    def scroll_to_region_lines(self, first: int, last: int) -> None:
        top, height = int(self.scroll_offset.y), self.scrollable_content_region.height
        if first < top:
            self.scroll_to(y=first, animate=False)
        elif height and last >= top + height:
            self.scroll_to(y=last - height + 1, animate=False)

    # --- drawing ------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(DAY_CHECK_SECONDS, self._check_day)

    def _check_day(self) -> None:
        """Past midnight, yesterday's "Today" is "Yesterday": draw the separators again."""
        if self._today is not None and self._local_today() != self._today:
            self.refresh()

    def _local_today(self) -> date:
        return local(self._clock()).date()

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._built_width:
            self._rebuild()

    def _rebuild(self) -> None:
        """Every loaded message as lines (once per change, not per frame): a day separator before the
        first message of each day, the bubble, a blank line."""
        width = self.scrollable_content_region.width or 80
        self._built_width = width
        bubble = max(20, int(width * 0.75))
        self._lines = []
        previous_day: date | None = None
        for index, item in self._timeline():
            day = local(item.created_at).date()
            if day != previous_day:
                self._lines.append(_Line(Text(""), -1, False, day))
                previous_day = day
            if isinstance(item, ThreadEvent):
                self._lines.extend(self._event(item, bubble))
            else:
                self._lines.extend(self._bubble(index, item, bubble))
            self._lines.append(_Line(Text(""), -1, False))
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def _timeline(self) -> list[tuple[int, Message | ThreadEvent]]:
        """Messages (with their index) and events merged by time, an event after the messages of its
        instant; events older than the loaded pages wait for the page that holds their time."""
        oldest = self.messages[0].created_at if self.messages and not self._complete else None
        events = [e for e in self.events if oldest is None or e.created_at >= oldest]
        merged: list[tuple[int, Message | ThreadEvent]] = []
        next_event = 0
        for index, message in enumerate(self.messages):
            while next_event < len(events) and events[next_event].created_at < message.created_at:
                merged.append((-1, events[next_event]))
                next_event += 1
            merged.append((index, message))
        merged.extend((-1, event) for event in events[next_event:])
        return merged

    def _event(self, event: ThreadEvent, width: int) -> list[_Line]:
        when = local(event.created_at).strftime("%H:%M")
        if event.kind is not EventKind.NOTE:
            sentence = plain(event_sentence(event), 300, one_line=True)
            sentence.append(f" · {when}")
            sentence.style = self._component("event")
            return [_Line(line, -1, False, centre=True) for line in sentence.wrap(self.app.console, width)]
        style, head_style = self._component("note"), self._component("note-head")
        head = Text("🔒 note · ", style=head_style)
        head.append_text(plain(agent_name(event.author), 40, one_line=True))
        head.append(f" · {when}")
        lines = [self._note_line(head, width, head_style)]
        for line in plain(event.body, NOTE_LIMIT).wrap(self.app.console, width - 2):
            lines.append(self._note_line(line, width, style))
        return lines

    def _note_line(self, text: Text, width: int, style: Style) -> _Line:
        """One line of a note's block: padded to the block's width, so the block is a rectangle."""
        line = Text(" ", style=style) + text
        line.truncate(width, overflow="ellipsis")
        line.pad_right(width - line.cell_len)
        line.stylize_before(style)
        return _Line(line, -1, False, centre=True)

    def _bubble(self, index: int, message: Message, width: int) -> list[_Line]:
        outbound = message.direction is Direction.OUTBOUND
        style = self._component("outbound" if outbound else "inbound")
        texts = describe_extras(message)
        if message.body:
            texts.insert(0, plain(message.body, BODY_LIMIT))
        pad = Text(" ", style=style)
        lines = [_Line(self._meta(message), index, outbound)]
        for text in texts:
            text.style = style
            wrapped = text.wrap(self.app.console, width - 2)
            lines += [_Line(pad + line + pad, index, outbound) for line in wrapped]
        return lines

    def _meta(self, message: Message) -> Text:
        when = local(message.created_at).strftime("%H:%M")
        meta = self._component("meta")
        if message.direction is Direction.INBOUND:
            return Text(f" {when}", style=meta)
        mark = tick(message)
        mark_style = self._component(
            "failed" if message.status in FAILED else "read" if message.status == "read" else "meta"
        )
        line = Text(f"{when} ", style=meta) + Text(mark, style=mark_style) + Text(" ")
        if (sender := sender_label(message, self.me)) is not None:
            line = plain(sender, 40, one_line=True, style=self._component("author")) + Text(" · ") + line
        return line

    def _separator(self, day: date, width: int) -> Text:
        today = self._local_today()
        self._today = today
        label = f"─── {day_label(day, today)} ───"
        return Text(label.center(width), style=self._component("day"))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + int(self.scroll_offset.y)
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        line = self._lines[index]
        text = line.text.copy() if line.day is None else self._separator(line.day, width)
        if line.message_index == self.selected and line.message_index >= 0:
            text.stylize(self._component("selected"))
        if line.centre:
            pad = max(0, (width - text.cell_len) // 2)
        else:
            pad = max(0, width - text.cell_len) if line.align_right else 0
        strip = Strip(list((Text(" " * pad) + text).render(self.app.console)))
        return strip.adjust_cell_length(width, self.rich_style)

    def _component(self, name: str) -> Style:
        return self.get_component_rich_style(f"thread-view--{name}", partial=True)


def _event_order(event: ThreadEvent) -> tuple[datetime, int]:
    return (event.created_at, event.id)
