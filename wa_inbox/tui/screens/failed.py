"""A failed message: the code, what it means and what to do, from the error catalogue."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import Message
from wa_inbox.tui.format import plain


class FailedMessageScreen(ModalScreen[bool]):
    """Dismisses with True when the agent asks to resend the message as a template."""

    BINDINGS = [
        Binding("escape", "dismiss(False)", "Close"),
        Binding("t", "dismiss(True)", "Resend as template"),
    ]

    def __init__(self, message: Message) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        info = describe(self.message.error_code)
        code = f"Error {self.message.error_code}" if self.message.error_code else "Not sent"
        with Vertical(id="failed-dialog"):
            yield Static(f"✗ {code}", id="failed-title", markup=False)
            yield Static(Text("“") + plain(self.message.body, 200) + Text("”"), id="failed-body")
            meaning = info.meaning if info else self.message.error_message or ""
            yield Static(plain(meaning, 500), id="failed-meaning")
            if info is not None:
                yield Static(f"What to do: {info.action}", id="failed-action", markup=False)
            if self.message.error_message and info is not None and self.message.error_message != info.meaning:
                said = Text("Twilio said: ") + plain(self.message.error_message, 500)
                yield Static(said, id="failed-twilio")
            yield Button("Resend as template (t)", id="resend", variant="primary")
        yield Footer(compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "resend")
