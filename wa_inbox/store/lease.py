"""The sender lease's SQL (see `domain.lease`): one row, taken, renewed and given back through the writer.

Times are the store's `ts()` text, whose order is time order, so "expired" is a text comparison.
The writes are registered commands taking `tx` first, as every write step does (see `tx`), "now" being
`tx.now`; none of them is news for the change feed (no `change_seq` is set on a row).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from wa_inbox.domain.lease import Lease
from wa_inbox.store.codec import parse_ts
from wa_inbox.store.tx import Tx, command

LeaseRow = tuple[str, int, str, str, str]
"""(owner, term, acquired_at, renewed_at, expires_at), as stored."""

_COLUMNS = "owner, term, acquired_at, renewed_at, expires_at"


@command
def acquire(tx: Tx, owner: str, until: str) -> LeaseRow:
    """Renew `owner`'s live lease, or take the lease when nobody holds it (none yet, or expired);
    returns the lease as it stands after, which is another owner's when it is live.

    A lapsed lease is taken with a new term even by its last owner: whatever that owner claimed
    under the old term may have been taken over meanwhile, and is resolved as left behind.
    """
    conn, now = tx.conn, tx.now
    row = current_row(tx)
    if row is None:
        conn.execute(
            f"INSERT INTO sender_lease (id, {_COLUMNS}) VALUES (1, ?, 1, ?, ?, ?)", (owner, now, now, until)
        )
    elif row[4] > now and row[0] == owner:
        conn.execute("UPDATE sender_lease SET renewed_at = ?, expires_at = ? WHERE id = 1", (now, until))
    elif row[4] <= now:
        conn.execute(
            "UPDATE sender_lease SET owner = ?, term = term + 1, acquired_at = ?, renewed_at = ?,"
            " expires_at = ? WHERE id = 1",
            (owner, now, now, until),
        )
    after = current_row(tx)
    assert after is not None
    return after


@command
def release(tx: Tx, owner: str) -> bool:
    """End `owner`'s lease now, so a sender standing by takes over at once; False if it held none."""
    return bool(
        tx.conn.execute(
            "UPDATE sender_lease SET expires_at = ? WHERE id = 1 AND owner = ? AND expires_at > ?",
            (tx.now, owner, tx.now),
        ).rowcount
    )


def holds(tx: Tx, owner: str, term: int) -> bool:
    """`owner` holds the live lease of `term` at `tx.now`: the fence every claim passes."""
    row = tx.conn.execute(
        "SELECT 1 FROM sender_lease WHERE id = 1 AND owner = ? AND term = ? AND expires_at > ?",
        (owner, term, tx.now),
    ).fetchone()
    return row is not None


@command
def take_over_sending(tx: Tx, owner: str, term: int) -> list[int]:
    """For the live holder (`owner`, `term`): the messages left `sending` under an ended lease, now its own.

    Only the holder claims, so a `sending` row of another term (or of none: claimed by an older
    version, or without a lease) was claimed by a sender whose lease has ended since; its request
    may or may not have reached Twilio. Nothing is taken when the caller is not the live holder.
    """
    if not holds(tx, owner, term):
        return []
    rows = tx.conn.execute(
        "UPDATE messages SET sending_owner = ?, sending_term = ?"
        " WHERE status = 'sending' AND sending_term IS NOT ? RETURNING id",
        (owner, term, term),
    ).fetchall()
    return sorted(int(row[0]) for row in rows)


def current_row(tx: Tx) -> LeaseRow | None:
    row = tx.conn.execute(f"SELECT {_COLUMNS} FROM sender_lease WHERE id = 1").fetchone()
    return None if row is None else (row[0], int(row[1]), row[2], row[3], row[4])


async def live(db: aiosqlite.Connection, now: str) -> Lease | None:
    """The lease if some sender holds it at `now`, else None."""
    rows = list(
        await db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM sender_lease WHERE id = 1 AND expires_at > ?", [now]
        )
    )
    return to_lease(tuple(rows[0])) if rows else None


def to_lease(row: Sequence[object]) -> Lease:
    owner, term, acquired_at, renewed_at, expires_at = (str(value) for value in row)
    return Lease(owner, int(term), _moment(acquired_at), _moment(renewed_at), _moment(expires_at))


def _moment(text: str) -> datetime:
    moment = parse_ts(text)
    assert moment is not None
    return moment
