"""The team inbox's plain values: agents, who a conversation belongs to, its status, notes and the
other lines of a thread that are not messages, saved replies, labels and presence.

Rules only, no framework: the store keeps these, the TUI and the CLI show and change them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

SYSTEM = "system"
"""The author of what wa-inbox sends by itself (the STOP and START confirmations)."""
AGENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
"""An agent's name: what `@name` mentions and `--agent` take (letters, digits, `.`, `_`, `-`)."""
RECENT_AGENT = timedelta(minutes=15)
"""Agents seen this recently take part in round-robin assignment."""
PRESENCE_TTL = timedelta(seconds=10)
"""A presence mark ends by itself this long after its last heartbeat (an inbox renews it every few s)."""
COLLISION_WINDOW = timedelta(minutes=2)
"""Another agent's reply this recent, or their typing, makes a send ask first."""
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]{0,31})")


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    """Waiting on the customer."""
    SNOOZED = "snoozed"
    """Out of the default views until `snoozed_until` (or the customer writes)."""
    RESOLVED = "resolved"
    """Done: out of the default views until the customer writes again."""


ACTIVE = frozenset({ConversationStatus.OPEN, ConversationStatus.PENDING})
"""The statuses the default views show."""


class EventKind(StrEnum):
    NOTE = "note"
    """An internal note: never sent, never a reply."""
    ASSIGNED = "assigned"
    """`body` is the new assignee's name, "" when unassigned."""
    STATUS = "status"
    """`body` is the new status (a snooze says until when in `detail`)."""
    LABEL = "label"
    """`body` is "+name" or "-name"."""


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class ThreadEvent:
    """A line of a conversation's thread that is not a message to or from the customer."""

    id: int
    address: str
    kind: EventKind
    author: str
    body: str
    created_at: datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class SavedReply:
    name: str
    body: str
    """May hold `{name}` (the customer's) and `{agent}` (the sender's): filled in when inserted."""
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Presence:
    agent: str
    address: str
    typing: bool
    until: datetime


@dataclass(frozen=True, slots=True)
class OptEvent:
    """One entry of the opt-out audit: who or what opted the customer out or in, and when."""

    action: str
    source: str
    at: datetime
    message_sid: str | None = None


class View(StrEnum):
    """The conversation list's views, cycled by a key."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"


def mentions(text: str) -> list[str]:
    """The agents a note names with `@name`, each once, in order."""
    seen: dict[str, None] = {}
    for name in MENTION.findall(text):
        seen.setdefault(name, None)
    return list(seen)


def fill_reply(body: str, customer: str, agent: str) -> str:
    """A saved reply with its placeholders filled: `{name}` and `{agent}`; other braces stay as typed."""
    return body.replace("{name}", customer).replace("{agent}", agent)


def valid_agent_name(name: str) -> bool:
    return bool(AGENT_NAME.match(name))
