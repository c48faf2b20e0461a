"""The contact panel (ctrl+k): who the open conversation's customer is, and what the agent may change.

The number, profile name, the 24-hour window, the opt-out state with its whole audit (each STOP and START,
what or who did it, when), and the conversation's labels. A label is added by typing it (Enter) and
removed with Delete on it; Enter on a label asks the inbox to show the conversations carrying it
(the inbox filters its list by it). ctrl+o opts the customer out, or back in, by hand after
asking: the audit names the agent.
Every name, label and source is outside text: drawn with `plain`, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from wa_inbox.domain.models import Contact
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.team import EventKind, OptEvent, ThreadEvent
from wa_inbox.domain.window import WINDOW
from wa_inbox.running.services import Services
from wa_inbox.tui.format import MONTHS, display_name, local, plain, sanitize, window_state
from wa_inbox.tui.screens.replies import Confirm, agent_name

LABEL_CHARS = 32
"""A label: at most this long, on one line."""
NAME_CHARS = 60
IN_USE_SHOWN = 12
NOTES_READ = 200
"""Thread events read for the panel's notes (assignments and status changes are among them)."""
NOTES_SHOWN = 20
"""Labels in use elsewhere listed as a hint, at most."""
FIELD = 10
"""The width of the facts' names."""


def clean_label(typed: str) -> str:
    """A typed label as kept: one line, spaces collapsed, at most `LABEL_CHARS`; "" for blank text."""
    return " ".join(sanitize(typed, 4 * LABEL_CHARS, one_line=True).split())[:LABEL_CHARS]


def moment(at: datetime) -> str:
    """An audit time in the agent's zone, whole: "14 Mar 2026 13:05"."""
    when = local(at)
    return f"{when.day} {MONTHS[when.month - 1]} {when.year} {when.hour:02d}:{when.minute:02d}"


def _fact(name: str, value: Text | str) -> Text:
    line = Text(f"{name:<{FIELD}}", style="bold")
    line.append_text(value if isinstance(value, Text) else Text(value))
    return line


class ContactPanel(ModalScreen[str | None]):
    """Dismisses with the label whose conversations the agent asked to see (the inbox then shows only
    those), or None."""

    AUTO_FOCUS = "#contact-label-new"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("ctrl+o", "toggle_opt", "Opt out / in"),
        Binding("delete", "remove_label", "Remove label", show=False),
    ]

    def __init__(self, services: Services, contact: Contact, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self._services = services
        self.contact = contact
        self._clock = clock
        self._agent = agent_name(services)
        self.history: list[OptEvent] = []
        self.notes: list[ThreadEvent] = []
        """The team's internal notes in this customer's conversation, oldest first."""
        self.labels: tuple[str, ...] = ()
        self._in_use: list[str] = []

    @property
    def address(self) -> str:
        return self.contact.address

    def compose(self) -> ComposeResult:
        with Vertical(id="contact-panel"):
            yield Static(plain(display_name(self.contact), NAME_CHARS, one_line=True), id="contact-title")
            yield Static("", id="contact-facts")
            yield Button("", id="contact-opt")
            yield Label("Opt-out history", classes="contact-heading")
            with VerticalScroll(id="contact-history-scroll", can_focus=False):
                yield Static("", id="contact-history")
            yield Label("Labels", classes="contact-heading")
            yield OptionList(id="contact-labels")
            yield Input(
                placeholder="Add a label: type it, Enter", id="contact-label-new", max_length=LABEL_CHARS
            )
            yield Static("", id="contact-labels-hint")
            yield Label("Notes about them", classes="contact-heading")
            with VerticalScroll(id="contact-notes-scroll", can_focus=False):
                yield Static("", id="contact-notes")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()
        self.set_interval(1.0, self._show_facts)  # the window counts down while the panel is open
        self.load()

    @work(exclusive=True, group="contact", exit_on_error=False)
    async def load(self) -> None:
        """Everything the panel shows, read again (after each change the agent makes here too)."""
        store = self._services.store
        self.contact = await store.get_contact(self.address) or self.contact
        self.history = await store.opt_history(self.address)
        events = await store.thread_events(self.address, limit=NOTES_READ)
        self.notes = [event for event in events if event.kind is EventKind.NOTE][-NOTES_SHOWN:]
        rows = await store.list_conversations(addresses=[self.address])
        self.labels = rows[0].labels if rows else ()
        self._in_use = await store.list_labels()
        self._show()

    # --- drawing -------------------------------------------------------------------------------------

    def _show(self) -> None:
        self._show_facts()
        self._show_history()
        self._show_labels()
        self._show_notes()

    def _show_notes(self) -> None:
        """The latest notes, newest last: what the team knows about this customer (f5 in the
        composer writes one)."""
        if not self.notes:
            self.query_one("#contact-notes", Static).update("No notes yet: f5 in the composer writes one.")
            return
        lines = []
        for note in self.notes:
            line = Text(f"{moment(note.created_at)}  ")
            line.append_text(plain(note.author, 32, one_line=True, style="bold"))
            line.append("  ")
            line.append_text(plain(note.body, 400, one_line=True))
            lines.append(line)
        self.query_one("#contact-notes", Static).update(Text("\n").join(lines))

    def _show_facts(self) -> None:
        contact = self.contact
        now = self._clock()
        label, level = window_state(contact.last_inbound_at, now)
        if contact.last_inbound_at is None:
            window = "closed: they never wrote"
        elif level == "closed":
            window = f"closed since {moment(contact.last_inbound_at + WINDOW)}"
        else:
            window = f"open, {label} left (until {moment(contact.last_inbound_at + WINDOW)})"
        if contact.opted_out:
            since = f" since {moment(contact.opted_out_at)}" if contact.opted_out_at else ""
            opt = Text(f"⊘ opted out{since}", style="bold")
            if contact.opted_out_source:
                opt.append(" (")
                opt.append_text(plain(contact.opted_out_source, 60, one_line=True))
                opt.append(")")
        else:
            opt = Text("can receive messages")
        lines = [
            _fact("Number", contact.address.removeprefix("whatsapp:")),
            _fact(
                "Name",
                plain(contact.profile_name, NAME_CHARS, one_line=True)
                if contact.profile_name
                else "none given",
            ),
            _fact("Window", window),
            _fact("Opt-out", opt),
        ]
        self.query_one("#contact-facts", Static).update(Text("\n").join(lines))
        button = self.query_one("#contact-opt", Button)
        button.label = "Opt back in… (ctrl+o)" if contact.opted_out else "Opt out… (ctrl+o)"

    def _show_history(self) -> None:
        if not self.history:
            self.query_one("#contact-history", Static).update("No opt-out or opt-in recorded.")
            return
        lines = []
        for event in self.history:
            line = Text(f"{moment(event.at)}  {event.action.upper():<5}  ")
            line.append_text(plain(event.source, 80, one_line=True))
            lines.append(line)
        self.query_one("#contact-history", Static).update(Text("\n").join(lines))

    def _show_labels(self) -> None:
        options = self.query_one("#contact-labels", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(Option(plain(label, LABEL_CHARS + 1, one_line=True)) for label in self.labels)
        if self.labels:
            options.highlighted = min(highlighted or 0, len(self.labels) - 1)
        others = [label for label in self._in_use if label not in self.labels][:IN_USE_SHOWN]
        hint = Text(
            "Enter on a label: its conversations · Delete removes it" if self.labels else "No labels yet."
        )
        if others:
            hint.append("\nIn use: ")
            hint.append_text(plain(", ".join(others), 400))
        self.query_one("#contact-labels-hint", Static).update(hint)

    # --- labels --------------------------------------------------------------------------------------

    @on(Input.Submitted, "#contact-label-new")
    def _add_label(self, event: Input.Submitted) -> None:
        label = clean_label(event.value)
        event.input.clear()
        if label and label not in self.labels:
            self._set_label(label, True)

    def action_remove_label(self) -> None:
        options = self.query_one("#contact-labels", OptionList)
        if (
            self.focused is options
            and options.highlighted is not None
            and options.highlighted < len(self.labels)
        ):
            self._set_label(self.labels[options.highlighted], False)

    @work(group="contact-write", exit_on_error=False)
    async def _set_label(self, label: str, present: bool) -> None:
        await self._services.store.set_label(self.address, label, present, self._agent)
        self.load()

    @on(OptionList.OptionSelected, "#contact-labels")
    def _show_label(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.labels):
            self.dismiss(self.labels[event.option_index])

    # --- opting out or in by hand ---------------------------------------------------------------------

    @on(Button.Pressed, "#contact-opt")
    def action_toggle_opt(self) -> None:
        who = plain(display_name(self.contact), NAME_CHARS, one_line=True)
        if self.contact.opted_out:
            question = Text("Opt ") + who + Text(" back in? Do it only if they asked to hear from you again.")
            action, yes = OptAction.START, "Opt in"
        else:
            question = Text("Opt ") + who + Text(" out? Nothing will be sent to them until they write START.")
            action, yes = OptAction.STOP, "Opt out"
        question.append(f"\nThe audit records it as agent {self._agent}.")

        def answered(ok: bool | None) -> None:
            if ok:
                self._set_opt(action)

        self.app.push_screen(Confirm(question, yes), answered)

    @work(group="contact-write", exit_on_error=False)
    async def _set_opt(self, action: OptAction) -> None:
        await self._services.store.set_opt_state(self.address, action, f"agent {self._agent}")
        self.load()
