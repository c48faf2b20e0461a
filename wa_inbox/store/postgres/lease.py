"""The sender lease on PostgreSQL (see `domain.lease`): one row, taken, renewed and given back.

Senders on several hosts race for it. Taking or renewing is one statement (`INSERT … ON CONFLICT DO
UPDATE … WHERE`): PostgreSQL locks the row and judges the condition on its committed state, so of two
senders asking at once one gets it and the other is told who holds it. Claims check it under a share
lock (`holds`), which a change of hands waits for. The semantics are SQLite's (`store/lease.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain.lease import Lease
from wa_inbox.store.postgres.tx import Tx

_COLUMNS = "owner, term, acquired_at, renewed_at, expires_at"


async def acquire(tx: Tx, owner: str, duration: timedelta) -> Lease:
    """Renew `owner`'s live lease, or take the lease when nobody holds it (none yet, or expired), until
    `tx.now + duration`; the lease as it stands after, which is another owner's when it is live.

    A lapsed lease is taken with a new term even by its last owner: whatever that owner claimed
    under the old term may have been taken over meanwhile, and is resolved as left behind."""
    taken = await tx.conn.execute(
        f"INSERT INTO sender_lease AS l (id, {_COLUMNS})"
        " VALUES (1, %(owner)s, 1, %(now)s, %(now)s, %(until)s)"
        " ON CONFLICT (id) DO UPDATE SET"
        "  owner = excluded.owner,"
        "  term = CASE WHEN l.expires_at <= %(now)s THEN l.term + 1 ELSE l.term END,"
        "  acquired_at = CASE WHEN l.expires_at <= %(now)s THEN excluded.acquired_at ELSE l.acquired_at END,"
        "  renewed_at = excluded.renewed_at,"
        "  expires_at = excluded.expires_at"
        " WHERE l.expires_at <= %(now)s OR l.owner = excluded.owner"
        f" RETURNING {_COLUMNS}",
        {"owner": owner, "now": tx.now, "until": tx.now + duration},
    )
    row = await taken.fetchone()
    if row is None:  # another's, live: the conflict left it locked by us, so it reads as it stays
        current = await tx.conn.execute(f"SELECT {_COLUMNS} FROM sender_lease WHERE id = 1")
        row = await current.fetchone()
    assert row is not None
    return to_lease(row)


async def release(tx: Tx, owner: str) -> bool:
    """End `owner`'s lease now, so a sender standing by takes over at once; False if it held none."""
    cursor = await tx.conn.execute(
        "UPDATE sender_lease SET expires_at = %s WHERE id = 1 AND owner = %s AND expires_at > %s",
        (tx.now, owner, tx.now),
    )
    return bool(cursor.rowcount)


async def holds(tx: Tx, owner: str, term: int) -> bool:
    """`owner` holds the live lease of `term` at `tx.now`: the fence every claim passes. The share
    lock keeps it so until this transaction ends: a sender taking over waits for the claim to commit,
    and then finds it (`take_over_sending`)."""
    cursor = await tx.conn.execute(
        "SELECT 1 FROM sender_lease WHERE id = 1 AND owner = %s AND term = %s AND expires_at > %s FOR SHARE",
        (owner, term, tx.now),
    )
    return await cursor.fetchone() is not None


async def live(conn: AsyncConnection[Any], now: datetime) -> Lease | None:
    """The lease if some sender holds it at `now`, else None."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM sender_lease WHERE id = 1 AND expires_at > %s", (now,)
    )
    row = await cursor.fetchone()
    return to_lease(row) if row else None


def to_lease(row: Sequence[Any]) -> Lease:
    owner, term, acquired_at, renewed_at, expires_at = row
    return Lease(owner, int(term), acquired_at, renewed_at, expires_at)
