"""One line above the thread for what the agent should know: new messages elsewhere, and the inbox's notes.

Toasts float over whatever is below them, the composer included; this line has a place of its own that no
input, banner or dialog shares. It keeps one announcement per conversation (a newer message replaces the
older), names the newest, and counts the rest.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from wa_inbox.tui.format import plain

PREVIEW_CHARS = 60


class NoticeLine(Static):
    """Shown only while it has something to say; the screen feeds it and tells it what was seen."""

    quiet: reactive[bool] = reactive(False)
    """Quiet: no announcements of new messages (the list's unread marks still show them)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._waiting: dict[str, tuple[str, str]] = {}
        """Conversation -> (who, what) of its newest unseen message, oldest first."""
        self._note: tuple[str, str] | None = None
        """(text, severity) of the inbox's own latest note, shown until something newer comes."""

    def announce(self, address: str, who: str, what: str) -> None:
        """A new message in a conversation the agent is not looking at."""
        self._waiting.pop(address, None)
        self._waiting[address] = (who, what)
        self._note = None
        self._redraw()

    def seen(self, address: str) -> None:
        """The agent opened `address`: its announcement has done its job."""
        if self._waiting.pop(address, None) is not None:
            self._redraw()

    def say(self, text: str, severity: str = "information") -> None:
        """A note from the inbox itself (a refusal, "no unread conversations"), until the next one."""
        self._note = (text, severity)
        self._redraw()

    def clear_note(self) -> None:
        if self._note is not None:
            self._note = None
            self._redraw()

    @property
    def waiting(self) -> list[str]:
        """Conversations with an unseen announcement, newest last."""
        return list(self._waiting)

    def watch_quiet(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        line = self._line()
        self.update(line)
        self.display = bool(line.plain)
        self.set_class(self._note is not None and self._note[1] in ("warning", "error"), "-warning")

    def _line(self) -> Text:
        if self._note is not None:
            return plain(self._note[0], PREVIEW_CHARS * 3)
        if self.quiet or not self._waiting:
            return Text()
        who, what = next(reversed(self._waiting.values()))
        line = Text("✉ ")
        line.append(plain(who, 30))
        line.append(": ")
        line.append(plain(" ".join(what.split()) or "(attachment)", PREVIEW_CHARS))
        if more := len(self._waiting) - 1:
            line.append(f"  · {more} more")
        line.append("  (ctrl+n)")
        return line
