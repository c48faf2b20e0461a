"""App-wide messages: what the background services tell the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from wa_inbox.running.services import Services


@dataclass
class ServicesReady(Message):
    """The database (and, embedded, the receiver and sender) are up; screens may load."""

    services: Services


@dataclass
class ServicesFailed(Message):
    """Start-up failed; `reason` is one sentence for the agent."""

    reason: str


@dataclass
class StoreChanged(Message):
    """Something was committed; readers ask the store what changed since the last they saw."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged)  # a burst of commits needs one refresh
