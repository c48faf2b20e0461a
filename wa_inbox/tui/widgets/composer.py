"""The composer: multi-line text, one key sends, another breaks the line; it says why it cannot send.

Its two keys are handled in the composer's own key handler, not as bindings the app checks: keys that
arrive in one burst (SSH, tmux, a paste) queue up in the composer in order, so the send key sees every
character typed before it and none typed after. A binding runs out of that order (a priority binding
before the queued characters, a bubbling one after the ones that follow).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from wa_inbox.tui.widgets.keys import InOrderKeys

SEND_KEY = "enter"
NEWLINE_KEY = "ctrl+j"
_OWN_KEYS = ("composer.send", "composer.newline", "composer.leave")


class Composer(InOrderKeys, TextArea):
    """Belongs to one conversation at a time; posts `Submitted` with that conversation and the text."""

    BINDINGS = [
        Binding(SEND_KEY, "submit", "Send", id="composer.send"),
        Binding(NEWLINE_KEY, "newline", "New line", show=False, id="composer.newline"),
        Binding("escape", "leave", "Conversations", show=False, id="composer.leave"),
    ]

    @dataclass
    class Submitted(Message):
        address: str
        """The conversation the text was written in: the send goes there, whatever is open by then."""
        text: str

    @dataclass
    class Left(Message):
        """The agent pressed Esc: back to the conversation list."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, **kwargs)
        self.address: str | None = None

    def switch_to(self, address: str, draft: str) -> str:
        """Hold `address`'s draft from now on; returns the text the previous conversation had."""
        previous = self.text
        self.address = address
        self.load_text(draft)
        self.move_cursor(self.document.end)
        return previous

    def restore(self, text: str) -> None:
        """Put back a text that was not sent, before anything typed since."""
        self.insert(
            text + ("\n" if self.text.strip() else ""), location=(0, 0), maintain_selection_offset=True
        )

    async def handle_own_key(self, event: events.Key) -> None:
        action = self._own_action(event.key)
        if action is None:
            await super().handle_own_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    def _own_action(self, key: str) -> str | None:
        """The composer's action for `key`, after the keymap (`[tui] send_key`, `newline_key`)."""
        own = next((bindings for node, bindings in self.screen._binding_chain if node is self), None)
        for binding in own.key_to_bindings.get(key, ()) if own else ():
            if binding.id in _OWN_KEYS:
                return binding.action
        return None

    def action_submit(self) -> None:
        """Takes the text out at once: what is typed after the send key starts the next message."""
        text = self.text
        if not text.strip() or self.address is None:
            return
        self.clear()
        self.post_message(self.Submitted(self.address, text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_leave(self) -> None:
        self.hand_over()
        self.post_message(self.Left())
