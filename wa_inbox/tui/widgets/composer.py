"""The composer: multi-line text, one key sends, another breaks the line; it says why it cannot send."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

SEND_KEY = "enter"
NEWLINE_KEY = "ctrl+j"


class Composer(TextArea):
    """Posts `Submitted` with the text; the screen decides, with the policy, whether it goes out."""

    BINDINGS = [
        Binding(SEND_KEY, "submit", "Send", priority=True, id="composer.send"),
        Binding(NEWLINE_KEY, "newline", "New line", show=False, id="composer.newline"),
    ]

    @dataclass
    class Submitted(Message):
        text: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, **kwargs)  # type: ignore[arg-type]

    def action_submit(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self.text))

    def action_newline(self) -> None:
        self.insert("\n")
