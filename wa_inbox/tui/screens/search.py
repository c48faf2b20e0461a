"""Search every conversation: customers by name or number, then messages by their words, best first.

Picking a customer opens the conversation; picking a message opens it scrolled to that message. The
messages come a page at a time: moving onto the last one reads the next page.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from wa_inbox.domain.models import Contact, Message
from wa_inbox.store import Store
from wa_inbox.tui.format import display_name, local, plain
from wa_inbox.tui.snippet import snippet

MESSAGES = 50
"""Messages per page of results."""
CUSTOMERS = 10
SNIPPET_CHARS = 80

Found = Message | str
"""A message hit, or the address of a customer found by name or number."""


class SearchScreen(ModalScreen[Found | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close"), Binding("down", "to_results", show=False)]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._found: list[Found] = []
        self._query = ""
        self._messages = 0
        self._more = False
        """The last page of messages was full: there may be another."""

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield Input(placeholder="Search names, numbers and messages…", id="search-input")
            yield Static("", id="search-summary", markup=False)
            yield OptionList(id="search-results")
        yield Footer(compact=True)

    @on(Input.Changed)
    @work(exclusive=True, group="search", exit_on_error=False)
    async def _search(self, event: Input.Changed) -> None:
        contacts = await self._store.find_contacts(event.value, CUSTOMERS)
        messages = await self._store.search(event.value, limit=MESSAGES)
        self._query, self._messages, self._more = event.value, len(messages), len(messages) == MESSAGES
        self._found = [c.address for c in contacts] + list(messages)
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(Option(_contact_label(c)) for c in contacts)
        results.add_options(Option(_message_label(m, event.value)) for m in messages)
        self._summarise(len(contacts))

    @on(OptionList.OptionHighlighted)
    def _near_the_end(self, event: OptionList.OptionHighlighted) -> None:
        if self._more and event.option_index == len(self._found) - 1:
            self._next_page()

    @work(exclusive=True, group="search-more", exit_on_error=False)
    async def _next_page(self) -> None:
        query = self._query
        messages = await self._store.search(query, limit=MESSAGES, offset=self._messages)
        if query != self._query:
            return  # the agent typed on meanwhile
        self._messages += len(messages)
        self._more = len(messages) == MESSAGES
        self._found.extend(messages)
        self.query_one(OptionList).add_options(Option(_message_label(m, query)) for m in messages)
        self._summarise(len(self._found) - self._messages)

    def _summarise(self, customers: int) -> None:
        summary = _summary(self._query, customers, self._messages, self._more)
        self.query_one("#search-summary", Static).update(summary)

    def action_to_results(self) -> None:
        self.query_one(OptionList).focus()

    @on(Input.Submitted)
    def _first(self) -> None:
        if self._found:
            self.dismiss(self._found[0])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._found[event.option_index])


def _summary(query: str, customers: int, messages: int, more: bool) -> str:
    if not query.strip():
        return ""
    if not customers and not messages:
        return f"No results for “{' '.join(query.split())[:60]}”: try fewer or shorter words."
    return f"{customers} customers, {messages}{'+' if more else ''} messages, best match first"


def _contact_label(contact: Contact) -> Text:
    label = Text("👤 ")
    label.append(plain(display_name(contact), 40))
    label.append(f"  {contact.address.removeprefix('whatsapp:')}")
    return label


def _message_label(message: Message, query: str) -> Text:
    label = Text(f"{local(message.created_at):%Y-%m-%d %H:%M}  {message.address.removeprefix('whatsapp:')}  ")
    label.append_text(snippet(message.body, query, SNIPPET_CHARS))
    return label
