"""A small menu of choices for the open conversation (assign it, set its status): arrows and Enter, or
the first letter of a choice; Esc leaves it unchanged. Choices may name agents: outside text, drawn plain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from wa_inbox.tui.format import plain

T = TypeVar("T")


class _Choices(OptionList):
    """The first choice highlighted from the start: an Enter typed behind the menu's key (one burst,
    handed over once the menu has the focus) chooses it."""

    def on_mount(self) -> None:
        if self.option_count:
            self.highlighted = 0


class ChoiceMenu(ModalScreen[T | None], Generic[T]):
    """Dismisses with the chosen value, or None when the agent pressed Esc."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str | Text, T]], *, dialog_id: str) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)
        self._dialog_id = dialog_id

    def compose(self) -> ComposeResult:
        with Vertical(id=self._dialog_id, classes="team-menu"):
            yield Static(plain(self._title, 120, one_line=True), classes="team-menu-title")
            options = [
                Option(label if isinstance(label, Text) else plain(label, 80, one_line=True), id=str(i))
                for i, (label, _) in enumerate(self._choices)
            ]
            yield _Choices(*options, classes="team-menu-options")
        yield Footer(compact=True)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._choices[event.option_index][1])
