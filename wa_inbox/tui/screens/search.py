"""Search every conversation: customers by name or number, then messages by their words (SQLite FTS5).

Picking a customer opens the conversation; picking a message opens it scrolled to that message.
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

MESSAGES = 100
CUSTOMERS = 10

Found = Message | str
"""A message hit, or the address of a customer found by name or number."""


class SearchScreen(ModalScreen[Found | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close"), Binding("down", "to_results", show=False)]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._found: list[Found] = []

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
        self._found = [c.address for c in contacts] + list(messages)
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(Option(_contact_label(c)) for c in contacts)
        results.add_options(Option(_message_label(m)) for m in messages)
        self.query_one("#search-summary", Static).update(_summary(event.value, len(contacts), len(messages)))

    def action_to_results(self) -> None:
        self.query_one(OptionList).focus()

    @on(Input.Submitted)
    def _first(self) -> None:
        if self._found:
            self.dismiss(self._found[0])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._found[event.option_index])


def _summary(query: str, customers: int, messages: int) -> str:
    if not query.strip():
        return ""
    if not customers and not messages:
        return f"No results for “{' '.join(query.split())[:60]}”: try fewer or shorter words."
    more = "+" if messages == MESSAGES else ""
    return f"{customers} customers, {messages}{more} messages"


def _contact_label(contact: Contact) -> Text:
    label = Text("👤 ")
    label.append(plain(display_name(contact), 40))
    label.append(f"  {contact.address.removeprefix('whatsapp:')}")
    return label


def _message_label(message: Message) -> Text:
    label = Text(
        f"{local(message.created_at):%Y-%m-%d %H:%M}  {message.contact_address.removeprefix('whatsapp:')}  "
    )
    label.append(plain(message.body, 80, one_line=True))
    return label
