"""The composer: multi-line text, one key sends, another breaks the line; it says why it cannot send.

Its two keys are handled in the composer's own key handler, not as bindings the app checks: keys that
arrive in one burst (SSH, tmux, a paste) queue up in the composer in order, so the send key sees every
character typed before it and none typed after. A binding runs out of that order (a priority binding
before the queued characters, a bubbling one after the ones that follow).

`/` typed into an empty composer opens the saved replies (the screen's `inbox.saved_replies`): the `/`
stays typed (Esc in the list leaves it there, so a message may still start with one) and the keys behind
it are held until the list has the focus. A chosen reply comes back as `InsertReply`, posted to the
composer itself so that it lands in order with the keys that follow it.
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
REPLIES_KEY = "/"
REPLIES_BINDING = "inbox.saved_replies"
"""The screen binding `/` runs (a name no key has)."""
"""Typed first into an empty composer, it opens the saved replies."""
SCREEN_KEYS = frozenset({"ctrl+k", "f6"})
"""TextArea's own "delete to the end of the line" and "select the line", given up: from the composer too,
these reach the screen's bindings (the contact panel, a new conversation), in their place in a burst."""
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

    @dataclass
    class InsertReply(Message):
        """A saved reply, filled in, to put in place of the `/` that asked for it (never sent from here)."""

        text: str

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
        if event.key in SCREEN_KEYS:
            event.stop()
            event.prevent_default()
            await self._screen_binding(event.key)
            return
        action = self._own_action(event.key)
        if action is None:
            asks_replies = event.character == REPLIES_KEY and not self.text and self.address is not None
            await super().handle_own_key(event)
            if asks_replies and self.address is not None and self.text == REPLIES_KEY:
                # The screen's saved replies, now: opened by a message, the dialog came after the keys
                # of the next read, which then went to the composer after the reply.
                await self._screen_binding(REPLIES_BINDING)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    async def _screen_binding(self, key: str) -> None:
        """Run the binding of `key` that the composer's ancestors have (what the app's check would run
        were the composer not in the way); a dialog it opens gets the keys behind it."""
        screens = len(self.app.screen_stack)
        for node, bindings in self.screen._modal_binding_chain:
            if node is self:
                continue
            for binding in bindings.key_to_bindings.get(key, ()):
                if await self.app.run_action(binding.action, node):
                    if len(self.app.screen_stack) != screens:
                        self.hand_over_to_dialog()
                    return

    def _own_action(self, key: str) -> str | None:
        """The composer's action for `key`, after the keymap (`[tui] send_key`, `newline_key`)."""
        own = next((bindings for node, bindings in self.screen._binding_chain if node is self), None)
        for binding in own.key_to_bindings.get(key, ()) if own else ():
            if binding.id in _OWN_KEYS:
                return binding.action
        return None

    def _on_composer_insert_reply(self, event: Composer.InsertReply) -> None:
        event.stop()
        self.insert_reply(event.text)

    def insert_reply(self, text: str) -> None:
        """`text` in place of the lone `/` that opened the saved replies (else at the cursor), for editing."""
        if self.text == REPLIES_KEY:
            self.replace(text, (0, 0), self.document.end)
        else:
            self.insert(text)
        self.move_cursor(self.document.end)

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
