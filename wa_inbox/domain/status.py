"""Ordering of message statuses, because Twilio's status callbacks arrive out of order.

A status replaces the stored one only if `supersedes(new, current)`, that is if
`rank(new) > rank(current)`. That single strict comparison implements both rules: a lower
status never replaces a higher one (a late `sent` cannot undo `delivered`), and a terminal
status is never left (all terminal statuses share the top rank, so nothing ranks above them).
The store mirrors it in SQL by comparing stored ranks, so changing a rank here means migrating
the ranks already stored.
"""

from __future__ import annotations

PENDING = "pending"
"""Our local state before Twilio has accepted the message."""

TERMINAL: frozenset[str] = frozenset({"read", "failed", "undelivered", "canceled"})
FAILED: frozenset[str] = frozenset({"failed", "undelivered", "canceled"})
"""The one meaning of "failed": the message did not reach the customer and never will (the ✗ on
screen, `send`'s exit status, the template re-sync all ask this set)."""
TICKS: dict[str, str] = {
    PENDING: "🕓",
    "sending": "🕓",
    "accepted": "🕓",
    "scheduled": "🕓",
    "queued": "🕓",
    "sent": "✓",
    "delivered": "✓✓",
    "partially_delivered": "✓✓",
    "read": "✓✓",
}
"""WhatsApp's delivery marks for an outbound status; read is ✓✓ too (the inbox colours it, a plain
log names the status beside it). A failed one is ✗, a status Twilio adds later ·."""

_UNKNOWN_RANK = 1
_RANKS: dict[str, int] = {
    PENDING: 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "receiving": 1,
    "received": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "partially_delivered": 4,
    **dict.fromkeys(TERMINAL, 5),
}


def tick(status: str) -> str:
    """The delivery mark of an outbound message in `status`."""
    return "✗" if status in FAILED else TICKS.get(status, "·")


def rank(status: str) -> int:
    """Position in the lifecycle; a status Twilio adds later ranks like `queued`, never fails."""
    return _RANKS.get(status, _UNKNOWN_RANK)


def supersedes(new: str, current: str) -> bool:
    """Whether a callback carrying `new` should overwrite `current` (see the module docstring)."""
    return rank(new) > rank(current)
