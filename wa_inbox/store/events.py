"""The event outbox's SQL (see `domain.events`): rows written with their webhook, read and marked by the
relay, pruned by retention.

An event row is inserted by the ingest commands (`commands`), in the webhook's own transaction, only
for a webhook that is new: the row exists exactly when the webhook was committed, so neither a crash
nor a broker outage can lose one. The relay reads the unpublished rows in id order (the order their
webhooks committed), and marks them once the broker acknowledged them. None of this is news for the
change feed (no `change_seq` is set).
"""

from __future__ import annotations

from typing import Any

import aiosqlite

from wa_inbox.domain.events import Event, EventBacklog, PendingEvent
from wa_inbox.store.codec import parse_required_ts, parse_ts
from wa_inbox.store.tx import Tx, command

EventRow = tuple[str, str, str, str]
"""An event as the ingest commands take it: (topic, key, payload, idempotency key), plain values that
pickle fast on the way to the writer process."""
PRUNE_BATCH = 5000
"""Published rows deleted per commit: other writes wait for one batch at a time."""
ERROR_CHARS = 500
"""Of a broker's error text, what `last_error` keeps."""


def as_row(event: Event | None) -> EventRow | None:
    if event is None:
        return None
    return (event.topic, event.key, event.payload, event.idempotency_key)


def insert_event(tx: Tx, row: EventRow) -> None:
    """Put the event of the webhook being committed into the outbox, written at `tx.now`."""
    tx.conn.execute(
        "INSERT INTO events (topic, key, payload, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)",
        (*row, tx.now),
    )


@command
def mark_events_published(tx: Tx, ids: list[int]) -> int:
    """The broker acknowledged these events: published at `tx.now`; how many were not before."""
    return tx.conn.executemany(
        "UPDATE events SET published_at = ?, attempts = attempts + 1, last_error = NULL"
        " WHERE id = ? AND published_at IS NULL",
        [(tx.now, event_id) for event_id in ids],
    ).rowcount


@command
def record_event_failure(tx: Tx, ids: list[int], error: str) -> None:
    """A try to publish these events failed with `error`: counted, and kept for `doctor` to show."""
    tx.conn.executemany(
        "UPDATE events SET attempts = attempts + 1, last_error = ? WHERE id = ? AND published_at IS NULL",
        [(error[:ERROR_CHARS], event_id) for event_id in ids],
    )


@command
def prune_events(tx: Tx, cutoff: str, limit: int) -> int:
    """Delete up to `limit` events published before `cutoff`, oldest first; how many went."""
    return tx.conn.execute(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE published_at IS NOT NULL"
        " AND published_at < ? ORDER BY published_at LIMIT ?)",
        (cutoff, limit),
    ).rowcount


async def pending(db: aiosqlite.Connection, limit: int) -> list[PendingEvent]:
    """The oldest `limit` unpublished events, in the order they were written."""
    rows = await db.execute_fetchall(
        "SELECT id, topic, key, payload, idempotency_key, created_at, attempts FROM events"
        " WHERE published_at IS NULL ORDER BY id LIMIT ?",
        (limit,),
    )
    return [_pending(row) for row in rows]


async def backlog(db: aiosqlite.Connection) -> EventBacklog:
    """How many events wait, since when, and why the last try failed: along the unpublished rows' own
    index. The relay always tries the oldest first, so the oldest holds the latest error."""
    rows = list(
        await db.execute_fetchall(
            "SELECT COUNT(*), MIN(created_at), (SELECT last_error FROM events WHERE published_at IS NULL"
            " ORDER BY id LIMIT 1) FROM events WHERE published_at IS NULL"
        )
    )
    count, oldest, last_error = rows[0]
    return EventBacklog(int(count), parse_ts(oldest), last_error)


def _pending(row: Any) -> PendingEvent:
    event_id, topic, key, payload, idempotency_key, created_at, attempts = row
    event = Event(topic, key, payload, idempotency_key)
    return PendingEvent(int(event_id), event, parse_required_ts(created_at), int(attempts))
