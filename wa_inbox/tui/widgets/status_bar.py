"""The line at the top: who sends, the last webhook, rejections, where the receiver listens, who you are."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from wa_inbox.tui.format import sanitize


class StatusBar(Static):
    """Updated by the screen; rendering is all it does."""

    listening: reactive[str | None] = reactive(None)
    public_url: reactive[str | None] = reactive(None)
    last_webhook_at: reactive[datetime | None] = reactive(None)
    rejected: reactive[int] = reactive(0)
    now: reactive[datetime | None] = reactive(None)
    """Set by the screen's clock tick, so "last webhook 12 s ago" moves."""
    agent: reactive[str] = reactive("")
    """Who this inbox answers as."""
    sender: reactive[str] = reactive("")
    """Who delivers what this inbox queues: "sending here", "sent by <owner>", or that nobody does."""

    def render(self) -> Text:
        """Most useful first: a narrow terminal cuts the end (the addresses)."""
        where = f"receiver {self.listening}" if self.listening else "attached to wa-inbox serve"
        public = f" · public {self.public_url}" if self.public_url else ""
        sender = f"{self.sender} · " if self.sender else ""
        me = f" · you are {sanitize(self.agent, 32, one_line=True)}" if self.agent else ""
        return Text(
            f"{sender}last webhook {self._ago()} · rejected {self.rejected} (ctrl+r) · {where}{me}{public}"
        )

    def _ago(self) -> str:
        if self.last_webhook_at is None or self.now is None:
            return "never"
        seconds = max(0, int((self.now - self.last_webhook_at).total_seconds()))
        return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"
