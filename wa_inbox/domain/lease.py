"""The sender lease: which one process may send from a database, and until when.

Two senders on one database would each take the other's in-flight messages for a crash's leftovers
and send some of them twice. So one sender at a time holds the lease, renews it well before it
expires, and only the holder claims and sends. Each change of hands starts a new `term`, and every
claim records the owner and term it was made under: a message still `sending` under an older term
was left by a sender whose lease ended, and is the new holder's to resolve (look up, then send).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Lease:
    """One holder's lease, as the database has it."""

    owner: str
    """The holder's sender id, like `serve@web1:4242.a1f3`: role, host, process id and a random tag."""
    term: int
    """Grows by one each time the lease changes hands (or is taken again after it lapsed); renewals
    keep it. Claims carry it, so a claim made under an ended lease is told from a live one."""
    acquired_at: datetime
    """When this term began."""
    renewed_at: datetime
    """The holder's last heartbeat."""
    expires_at: datetime
    """After this moment, without a renewal, any sender may take the lease (and the holder's work)."""

    def live(self, now: datetime) -> bool:
        """Still held at `now`: no other sender may claim or send."""
        return now < self.expires_at
