"""The event outbox on PostgreSQL (see `domain.events`, and SQLite's `store/events.py`): rows written with
their webhook, read and marked by the relay, pruned by retention.

An event row is inserted by the ingest steps (`webhooks.py`) in the webhook's own transaction, only for
a webhook that is new, so the row exists exactly when the webhook was committed. With several replicas
ingesting at once, ids are taken in insertion order, and transactions may commit in another: the
relay reads whatever is unpublished by id, so an event committed late is published on a later round,
never skipped. One customer's events still keep their order: an inbound event is inserted after its
message locked the customer's contact row, a status event after its callback locked its message SID
(`outbox.lock_sid`), so within one customer (or one message) id order is commit order.

The relay runs in one process (the sender lease's), but a hand-over may briefly leave two: every
statement here decides and writes together (an UPDATE whose WHERE says "still unpublished"), so an
event is counted as newly published once, and two pruners share the work (`SKIP LOCKED`). None of
this is news for the change feed (the table has no stamp, no notification).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain.events import Event, EventBacklog, PendingEvent
from wa_inbox.store.postgres.tx import Tx

PRUNE_BATCH = 1000
"""Published rows deleted per transaction: other writes wait for one batch at a time."""
ERROR_CHARS = 500
"""Of a broker's error text, what `last_error` keeps."""


async def insert_event(tx: Tx, event: Event) -> None:
    """Put the event of the webhook being committed into the outbox, written at `tx.now` (the
    webhook's arrival, as the ingest steps set it)."""
    await tx.conn.execute(
        "INSERT INTO events (topic, key, payload, idempotency_key, created_at) VALUES (%s, %s, %s, %s, %s)",
        (event.topic, event.key, event.payload, event.idempotency_key, tx.now),
    )


async def mark_published(tx: Tx, ids: Sequence[int]) -> int:
    """The broker acknowledged these events: published at `tx.now`; how many were not before. A
    concurrent mark of the same row waits for this one, re-checks `published_at`, and counts nothing."""
    cursor = await tx.conn.execute(
        "UPDATE events SET published_at = %s, attempts = attempts + 1, last_error = NULL"
        " WHERE id = ANY(%s) AND published_at IS NULL",
        (tx.now, list(ids)),
    )
    return cursor.rowcount


async def record_failure(tx: Tx, ids: Sequence[int], error: str) -> None:
    """A try to publish these events failed with `error`: counted on each still pending, and kept
    (cut to `ERROR_CHARS`) for `doctor` to show."""
    await tx.conn.execute(
        "UPDATE events SET attempts = attempts + 1, last_error = %s"
        " WHERE id = ANY(%s) AND published_at IS NULL",
        (error[:ERROR_CHARS], list(ids)),
    )


async def prune(tx: Tx, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` events published before `before`, oldest first; how many went.

    Along the published rows' own index, so a batch reads only what it deletes however long the
    outbox; unpublished rows are never candidates. Rows another pruner holds are skipped, not waited
    for. The caller repeats while whole batches go."""
    cursor = await tx.conn.execute(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE published_at IS NOT NULL"
        " AND published_at < %s ORDER BY published_at LIMIT %s FOR UPDATE SKIP LOCKED)",
        (before, batch),
    )
    return cursor.rowcount


async def pending(conn: AsyncConnection[Any], limit: int) -> list[PendingEvent]:
    """The oldest `limit` unpublished events by id (the order they were written), along the
    unpublished rows' own index."""
    cursor = await conn.execute(
        "SELECT id, topic, key, payload, idempotency_key, created_at, attempts FROM events"
        " WHERE published_at IS NULL ORDER BY id LIMIT %s",
        (limit,),
    )
    return [_pending(row) for row in await cursor.fetchall()]


async def backlog(conn: AsyncConnection[Any]) -> EventBacklog:
    """How many events wait, since when, and why the last try failed: along the unpublished rows'
    own index. The relay always tries the oldest first, so the oldest holds the latest error."""
    cursor = await conn.execute(
        "SELECT count(*), min(created_at), (SELECT last_error FROM events WHERE published_at IS NULL"
        " ORDER BY id LIMIT 1) FROM events WHERE published_at IS NULL"
    )
    row = await cursor.fetchone()
    assert row is not None  # an aggregate always returns its row
    count, oldest, last_error = row
    return EventBacklog(int(count), oldest, last_error)


def _pending(row: Any) -> PendingEvent:
    event_id, topic, key, payload, idempotency_key, created_at, attempts = row
    event = Event(topic, key, payload, idempotency_key)
    return PendingEvent(int(event_id), event, created_at, int(attempts))
