"""Search every conversation (SQLite FTS5); picking a result opens its thread."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from wa_inbox.domain.models import Message
from wa_inbox.store import Store


class SearchScreen(ModalScreen[Message | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._found: list[Message] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield Input(placeholder="Search all conversations…", id="search-input")
            yield OptionList(id="search-results")

    @on(Input.Changed)
    @work(exclusive=True, group="search", exit_on_error=False)
    async def _search(self, event: Input.Changed) -> None:
        self._found = await self._store.search(event.value, limit=100)
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(Option(self._label(m), id=str(i)) for i, m in enumerate(self._found))

    @on(Input.Submitted)
    def _first(self) -> None:
        if self._found:
            self.dismiss(self._found[0])

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._found[int(event.option.id or 0)])

    @staticmethod
    def _label(message: Message) -> str:
        who = message.contact_address.removeprefix("whatsapp:")
        return f"{message.created_at:%Y-%m-%d %H:%M}  {who}  {' '.join(message.body.split())[:80]}"
