"""Saved replies (`/` in an empty composer): a fuzzy list, and the dialogs that manage it.

Typed filter, Enter puts the chosen reply into the composer with `{name}` and `{agent}` filled in, for
editing: nothing is sent from here (the composer's own send, and so the window rule, apply as to any text).
Esc, or a second `/`, closes the list and leaves the `/` typed (`//` writes a message starting with "/").
ctrl+n keeps a new reply (a name and a text, the composer's text to start with), ctrl+d forgets the
highlighted one, after asking.

The keys of a burst stay in order: the filter handles Enter, Esc and `/` where it reads them, and passes the
keys that follow them on to the composer, behind the inserted reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from wa_inbox.domain.fuzzy import is_subsequence
from wa_inbox.domain.models import Contact
from wa_inbox.domain.team import SavedReply, fill_reply
from wa_inbox.running.services import Services
from wa_inbox.tui.format import display_name, plain, sanitize
from wa_inbox.tui.widgets.composer import REPLIES_KEY, Composer
from wa_inbox.tui.widgets.keys import InOrderKeys

NAME_CHARS = 40
"""A reply's name: at most this long, on one line (longer names are cut on screen, refused when saved)."""
NAME_COLUMN = 24
"""The list's column of names is as wide as its longest name, up to this."""
BODY_PREVIEW = 120
"""Characters of a body the list line and the fuzzy matcher look at."""
MOVES = {"up": -1, "down": 1, "pageup": -10, "pagedown": 10}


def agent_name(services: Services) -> str:
    """Who this inbox writes as: the running agent, else the setting (`[agent] name`, the OS user)."""
    agent = getattr(services, "agent", None)  # `Services.agent`, as the inbox runs
    return agent if isinstance(agent, str) and agent else services.settings.agent.resolved


def matching(replies: Sequence[SavedReply], query: str) -> list[tuple[SavedReply, Sequence[int]]]:
    """The replies `query` finds, best first, each with the offsets of its name that matched: names
    first (fuzzy: its characters in order), then replies whose text holds each of its words; all of
    them, by name, for a blank query."""
    if not query.strip():
        return [(reply, ()) for reply in replies]
    matcher = Matcher(query)
    words = query.casefold().split()
    by_name: list[tuple[float, SavedReply, Sequence[int]]] = []
    by_body: list[SavedReply] = []
    for reply in replies:
        name = _name(reply)
        if is_subsequence(query, name) and (score := matcher.match(name)):
            _, offsets = matcher.fuzzy_search.match(matcher.query, name)
            by_name.append((score, reply, offsets))
            continue
        if words and all(word in _preview(reply).casefold() for word in words):
            by_body.append(reply)
    by_name.sort(key=lambda hit: -hit[0])
    return [(reply, offsets) for _, reply, offsets in by_name] + [(reply, ()) for reply in by_body]


def _name(reply: SavedReply) -> str:
    return sanitize(reply.name, NAME_CHARS, one_line=True)


def _preview(reply: SavedReply) -> str:
    return " ".join(sanitize(reply.body, BODY_PREVIEW, one_line=True).split())


def _line(reply: SavedReply, offsets: Sequence[int], width: int) -> Text:
    """`name  text…`, both outside text, the names in a column `width` cells wide, with the matched
    characters of the name marked."""
    line = plain(_name(reply), NAME_CHARS + 1, style="bold")
    for offset in offsets:
        line.stylize("reverse", offset, offset + 1)
    line.truncate(width, overflow="ellipsis", pad=True)
    line.append("  ")
    line.append_text(plain(_preview(reply), BODY_PREVIEW + 1, style="dim"))
    return line


class _ReplyFilter(InOrderKeys, Input):
    """The list's query. Its picker reads Enter, Esc and `/` here, in order; once the picker is done, the
    keys still coming (typed in the same burst) go on to the composer."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.forward_to: Widget | None = None
        self.held: list[events.Key] | None = None
        """Keys behind an Enter that came before the replies were read: kept until they are."""

    async def handle_own_key(self, event: events.Key) -> None:
        key = events.Key(event.key, event.character)
        if self.forward_to is not None or self.held is not None:
            event.stop()
            event.prevent_default()
            if self.forward_to is not None:
                self.forward_to._forward_event(key)
            elif self.held is not None:
                self.held.append(key)
            return
        picker = self.screen
        if isinstance(picker, ReplyPicker) and picker.own_key(event.key, event.character):
            event.stop()
            event.prevent_default()
            return
        await super().handle_own_key(event)

    def pass_on(self, target: Widget) -> None:
        """From now on, and for any key held, the keys go to `target`."""
        self.forward_to = target
        held, self.held = self.held or [], None
        for key in held:
            target._forward_event(key)


class ReplyPicker(ModalScreen[None]):
    """Inserts the chosen reply into `composer` itself (behind the keys typed before it); dismisses with
    None either way."""

    BINDINGS = [
        Binding("enter", "choose", "Insert"),
        Binding("escape", "close", "Close"),
        Binding("ctrl+n", "new_reply", "Save a new reply"),
        Binding("ctrl+d", "delete_reply", "Delete"),
    ]
    """Read by the filter itself, in order (`own_key`); listed here for the footer and the mouse."""

    def __init__(self, services: Services, composer: Composer, contact: Contact | None) -> None:
        super().__init__()
        self._services = services
        self._composer = composer
        address = composer.address or ""
        named = contact is not None and contact.address == address
        self._customer = (
            display_name(contact) if contact is not None and named else address.removeprefix("whatsapp:")
        )
        self._agent = agent_name(services)
        self._replies: list[SavedReply] | None = None
        self._shown: list[SavedReply] = []
        self._shown_query: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="replies-dialog"):
            yield Label("Saved replies", id="replies-title")
            yield _ReplyFilter(placeholder="Type to filter by name or text…", id="replies-filter")
            yield OptionList(id="replies-list")
            yield Static("", id="replies-preview")
            yield Static(
                "Enter inserts it to edit (nothing is sent) · Esc or / leaves the / typed · "
                "ctrl+n saves a new reply · ctrl+d deletes",
                id="replies-hint",
                markup=False,
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#replies-list", OptionList).can_focus = False  # the filter keeps the keys
        self._load()

    @property
    def filter(self) -> _ReplyFilter:
        return self.query_one("#replies-filter", _ReplyFilter)

    @work(exclusive=True, group="replies", exit_on_error=False)
    async def _load(self, highlight: str | None = None) -> None:
        self._replies = await self._services.store.list_replies()
        self._show(self.filter.value, highlight)
        if self.filter.held is not None:  # Enter came first: it meant the reply now found
            held, self.filter.held = self.filter.held, None
            self.choose()
            if self.filter.forward_to is None:  # nothing chosen: the keys were typed in the filter
                for key in held:
                    self.filter._forward_event(key)
            else:
                for key in held:
                    self.filter.forward_to._forward_event(key)

    @on(Input.Changed, "#replies-filter")
    def _filtered(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, query: str, highlight: str | None = None) -> None:
        if self._replies is None:
            return
        hits = matching(self._replies, query)
        self._shown = [reply for reply, _ in hits]
        self._shown_query = query
        options = self.query_one("#replies-list", OptionList)
        options.clear_options()
        width = min(NAME_COLUMN, max((cell_len(_name(reply)) for reply in self._shown), default=0))
        options.add_options(Option(_line(reply, offsets, width)) for reply, offsets in hits)
        names = [reply.name for reply in self._shown]
        if self._shown:
            options.highlighted = names.index(highlight) if highlight in names else 0
        self._preview()

    @on(OptionList.OptionHighlighted, "#replies-list")
    def _preview(self) -> None:
        preview = self.query_one("#replies-preview", Static)
        reply = self.highlighted
        if reply is not None:
            preview.update(plain(self._fill(reply), 1000))
        elif self._replies == []:
            preview.update("No saved replies yet: ctrl+n saves one (or `wa-inbox replies add NAME TEXT`).")
        elif self._replies is None:
            preview.update("Reading the saved replies…")
        else:
            preview.update("No saved reply matches: Esc leaves the / typed.")

    @on(OptionList.OptionSelected, "#replies-list")
    def _clicked(self) -> None:
        self.choose()

    @property
    def highlighted(self) -> SavedReply | None:
        index = self.query_one("#replies-list", OptionList).highlighted
        return self._shown[index] if index is not None and index < len(self._shown) else None

    def _fill(self, reply: SavedReply) -> str:
        return fill_reply(reply.body, self._customer, self._agent)

    # --- the filter's keys, in the order they were typed -------------------------------------------------

    def own_key(self, key: str, character: str | None) -> bool:
        """Handle `key` if it is one of the list's own; False leaves it to the filter."""
        if key == "enter":
            self.choose()
        elif key == "escape" or (character == REPLIES_KEY and not self.filter.value):
            self.close()
        elif key == "ctrl+n":
            self.action_new_reply()
        elif key == "ctrl+d":
            self.action_delete_reply()
        elif key in MOVES:
            options = self.query_one("#replies-list", OptionList)
            if self._shown_query == self.filter.value and options.option_count:
                now = options.highlighted or 0
                options.highlighted = max(0, min(options.option_count - 1, now + MOVES[key]))
        else:
            return False
        return True

    def choose(self) -> None:
        """The highlighted reply, filled in, into the composer; before the replies are read, once they are."""
        if self._replies is None:
            self.filter.held = []
            return
        if self._shown_query != self.filter.value:  # keys of a burst ran ahead of the list's update
            self._show(self.filter.value)
        reply = self.highlighted
        if reply is None:
            return
        self._composer.post_message(Composer.InsertReply(self._fill(reply)))
        self.close()

    def action_choose(self) -> None:
        self.choose()

    def action_close(self) -> None:
        self.close()

    def close(self) -> None:
        self.filter.pass_on(self._composer)
        self.dismiss(None)

    # --- managing the replies ------------------------------------------------------------------------

    def action_new_reply(self) -> None:
        text = self._composer.text
        body = "" if text == REPLIES_KEY else text
        names = {reply.name for reply in self._replies or []}
        self.app.push_screen(NewReply(body, names), self._saved)
        self.filter.hand_over()  # the keys behind ctrl+n are the new reply's name

    def _saved(self, reply: tuple[str, str] | None) -> None:
        if reply is not None:
            self._save(*reply)

    @work(group="replies-write", exit_on_error=False)
    async def _save(self, name: str, body: str) -> None:
        await self._services.store.save_reply(name, body, self._agent)
        self.filter.value = ""
        self._load(highlight=name)

    def action_delete_reply(self) -> None:
        reply = self.highlighted
        if reply is None:
            return
        question = Text("Delete the saved reply “") + plain(_name(reply)) + Text("”?")

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(reply.name)

        self.app.push_screen(Confirm(question, "Delete"), answered)

    @work(group="replies-write", exit_on_error=False)
    async def _delete(self, name: str) -> None:
        await self._services.store.delete_reply(name)
        self._load()


class NewReply(ModalScreen[tuple[str, str] | None]):
    """A name and a text for a new saved reply; dismisses with (name, text), or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, body: str, taken: set[str]) -> None:
        super().__init__()
        self._body = body
        self._taken = taken

    def compose(self) -> ComposeResult:
        with Vertical(id="new-reply-dialog"):
            yield Label("New saved reply")
            yield Input(placeholder="Name, e.g. order-status", id="new-reply-name", max_length=NAME_CHARS)
            yield TextArea(self._body, id="new-reply-body", soft_wrap=True, show_line_numbers=False)
            yield Static(
                "{name} becomes the customer's name and {agent} yours when it is inserted · ctrl+s saves",
                id="new-reply-hint",
                markup=False,
            )
            yield Static("", id="new-reply-problem", markup=False)
        yield Footer(compact=True)

    @on(Input.Changed, "#new-reply-name")
    def _name_changed(self, event: Input.Changed) -> None:
        taken = event.value.strip() in self._taken
        self._problem("A reply of that name exists: saving replaces it." if taken else "")

    @on(Input.Submitted, "#new-reply-name")
    def _to_body(self) -> None:
        self.query_one("#new-reply-body", TextArea).focus()

    def _problem(self, sentence: str) -> None:
        self.query_one("#new-reply-problem", Static).update(sentence)

    def action_save(self) -> None:
        name = " ".join(self.query_one("#new-reply-name", Input).value.split())
        body = self.query_one("#new-reply-body", TextArea).text
        if not name:
            self._problem("Not saved: give it a name first.")
            self.query_one("#new-reply-name", Input).focus()
        elif not body.strip():
            self._problem("Not saved: write its text first.")
            self.query_one("#new-reply-body", TextArea).focus()
        else:
            self.dismiss((name, body))


class Confirm(ModalScreen[bool]):
    """A yes-or-no question: y or Enter says yes, n or Esc no."""

    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Yes"),
        Binding("n,escape", "dismiss(False)", "No"),
    ]

    def __init__(self, question: Text | str, yes: str = "Yes") -> None:
        super().__init__()
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self._question, id="confirm-question", markup=False)
            yield Button(f"{self._yes} (y)", id="confirm-yes", variant="error")
            yield Button("Cancel (n)", id="confirm-no")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False  # y and n answer; Enter never presses the wrong one

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")
