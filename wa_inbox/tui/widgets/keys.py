"""Keys in the order they were typed, when they arrive in one burst (SSH, tmux, a paste).

Textual hands every key of a burst to the widget focused when the app reads it, before any of them is
handled; a widget's bindings then run only after the key has bubbled up to the app, by which time the
keys that followed it have already been handled. So "Enter, then type" went to the list instead of the
composer Enter opened, and "ctrl+n, then type" went to the conversation ctrl+n left. This mixin, for the
inbox's focusable widgets, runs a key's binding where the key is handled, in order, and passes the keys
that follow a focus-moving action on to whatever has the focus once it has moved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget
    from textual.widget import Widget as _Base
else:
    _Base = object  # a plain mixin: Textual merges CSS and component classes along the widget classes

HAND_OVER_SECONDS = 0.5


class InOrderKeys(_Base):
    """Mix in before the widget class: `class Composer(InOrderKeys, TextArea)`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._keys_handing_over = False
        self._keys_held: list[events.Key] = []

    def hand_over(self) -> None:
        """An action of this widget is moving the focus away: hold the keys behind it until it has.

        The fallback timer is the app's: a widget's own timers stop while a dialog covers its screen,
        and the keys behind a `/` that opens the saved replies came back to the composer only when the
        dialog had closed."""
        self._keys_handing_over = True
        self.app.set_timer(HAND_OVER_SECONDS, self._release)  # in case the focus stays after all

    def hand_over_to_dialog(self) -> None:
        """A dialog has just been pushed: hold the keys behind this one and give them to the dialog's
        first focus the moment it is set, ahead of any key of a later read (which goes straight to it).
        """
        self.hand_over()
        self.watch(self.app.screen, "focused", self._dialog_focused, init=False)

    def _dialog_focused(self, focused: Widget | None) -> None:
        if focused is not None:
            self._release(focused)

    async def _on_key(self, event: events.Key) -> None:
        if self._keys_handing_over:
            event.stop()
            event.prevent_default()
            self._keys_held.append(events.Key(event.key, event.character))
            return
        await self.handle_own_key(event)
        if event._stop_propagation:
            return
        screens = len(self.app.screen_stack)
        if await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()
            if len(self.app.screen_stack) != screens:
                self.hand_over_to_dialog()  # a dialog opened: the keys behind this one are typed into it

    async def handle_own_key(self, event: events.Key) -> None:
        """What the widget itself does with a key before bindings are looked at (Textual's default)."""
        await super()._on_key(event)

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        if self.app.focused is not None:
            self._release()
        elif (target := _auto_focus(self.app.screen)) is not None:
            # A dialog is still mounting: its first field takes the keys now, ahead of any key of a
            # later read (which goes straight to it once focused).
            self._release(target)
        else:  # once it has drawn, its focus is set (else the timer acts)
            self.app.call_after_refresh(self._release_if_focused)

    def _release_if_focused(self) -> None:
        if self.app.focused is not None:
            self._release()

    def _release(self, target: Widget | None = None) -> None:
        """Give the held keys to `target`, else the widget with the focus now (this one again, if it
        kept it)."""
        if not self._keys_handing_over:
            return
        self._keys_handing_over = False
        held, self._keys_held = self._keys_held, []
        to = target or self.app.focused or self.app.screen
        for key in held:
            to._forward_event(key)


def _auto_focus(screen: Screen[object]) -> Widget | None:
    """The widget a screen focuses first (its `AUTO_FOCUS`), once it is in the DOM."""
    if not screen.AUTO_FOCUS:
        return None
    found = screen.query(screen.AUTO_FOCUS)
    return next((widget for widget in found if widget.focusable), None)
