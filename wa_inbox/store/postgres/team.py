"""The team inbox on PostgreSQL (#14, `domain.team`): agents, read marks, assignment, status, notes,
labels, saved replies, presence and the opt-out audit; and the parts of the conversation list the team
adds (its filter, the per-agent unread count, the status a snooze has once its time has come).

Behaviour is SQLite's (`store/team_writes.py`, `team_reads.py`). What differs is how writes stay
right with several processes writing at once under READ COMMITTED: every write is one statement
that decides and writes together (an upsert with ON CONFLICT, or an UPDATE whose WHERE says "only if
it changes"), never a read followed by a write. PostgreSQL re-checks an UPDATE's WHERE on the row a
concurrent writer just committed, so of two identical assignments one changes the row and writes
the event, the other finds nothing to change.

A change of a conversation (assignee, status, note, label, read mark) touches its `conversations`
row, whose trigger stamps it with this transaction's id: `changes_since` then reports it. Presence
and saved replies do not (presence is polled, a saved reply is no conversation's news).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain.team import (
    PRESENCE_TTL,
    SYSTEM,
    Agent,
    ConversationStatus,
    EventKind,
    OptEvent,
    Presence,
    SavedReply,
    ThreadEvent,
)
from wa_inbox.store.codec import ts
from wa_inbox.store.errors import UnknownConversation
from wa_inbox.store.postgres.tx import Tx
from wa_inbox.store.types import ConversationFilter

Conn = AsyncConnection[Any]

REOPENED = "reopened by the customer"
"""The `detail` of the `status` event a customer's message writes when it reopens a conversation
(the same words as SQLite's, so a thread reads the same on either backend)."""

EVENT_COLUMNS = "id, address, kind, author, body, created_at, detail"

# --- writes -------------------------------------------------------------------------------------


async def require_conversation(tx: Tx, address: str) -> None:
    """`UnknownConversation` unless the customer at `address` wrote or was written to (contacts are
    never deleted, so what this read found stays true for the rest of the transaction)."""
    cursor = await tx.conn.execute("SELECT 1 FROM contacts WHERE address = %s", [address])
    if await cursor.fetchone() is None:
        raise UnknownConversation(
            f"No conversation with {address}: that number never wrote nor was written to."
        )


async def touch_conversation(tx: Tx, address: str) -> None:
    """Put the conversation in the change feed: its row is stamped with this transaction's id (the
    trigger would stamp the same number whatever is set)."""
    await tx.conn.execute(
        "UPDATE conversations SET change_seq = pg_current_xact_id()::text::bigint WHERE address = %s",
        [address],
    )


async def add_event(
    tx: Tx, address: str, kind: EventKind, author: str, body: str, detail: str | None = None
) -> int:
    """A line in the conversation's thread, in the change feed with its conversation; its id."""
    cursor = await tx.conn.execute(
        "INSERT INTO thread_events (address, kind, author, body, detail, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        [address, str(kind), author, body, detail, tx.now],
    )
    row = await cursor.fetchone()
    assert row is not None
    await touch_conversation(tx, address)
    return int(row[0])


async def reopen_on_inbound(tx: Tx, address: str) -> None:
    """A customer's new message reopens their resolved or snoozed conversation (a snooze whose time
    has passed included), with a `status` event by `system` saying so. For the ingest step."""
    cursor = await tx.conn.execute(
        "UPDATE conversations SET status = 'open', snoozed_until = NULL"
        " WHERE address = %s AND status IN ('resolved', 'snoozed')",
        [address],
    )
    if cursor.rowcount:
        await add_event(tx, address, EventKind.STATUS, SYSTEM, str(ConversationStatus.OPEN), REOPENED)


async def mark_read(tx: Tx, address: str, agent: str | None) -> int:
    """Every unread inbound message of the conversation is read now (anyone's count, kept by the
    `conversations_read` trigger); with `agent`, that agent's read mark moves to its latest message.
    How many messages were marked."""
    cursor = await tx.conn.execute(
        "UPDATE messages SET read_by_agent_at = %s"
        " WHERE address = %s AND direction = 'in' AND read_by_agent_at IS NULL",
        [tx.now, address],
    )
    if agent is not None:
        await _mark_read_by(tx, address, agent)
    return cursor.rowcount


async def _mark_read_by(tx: Tx, address: str, agent: str) -> None:
    """The agent's read mark moves to the conversation's latest message, never back: `greatest`
    inside the upsert, so two inboxes of one agent marking at once keep the further mark."""
    await tx.conn.execute(
        "INSERT INTO agent_reads (agent, address, last_read_id)"
        " SELECT %s, address, last_message_id FROM conversations WHERE address = %s"
        " ON CONFLICT (agent, address)"
        " DO UPDATE SET last_read_id = greatest(agent_reads.last_read_id, excluded.last_read_id)",
        [agent, address],
    )
    await touch_conversation(tx, address)


async def record_agent(tx: Tx, name: str) -> Agent:
    """Known from now on (first seen kept), last seen now. A new agent's unread counts start at the
    newest message: `first_message_id` is read inside the insert, and ignored when the agent exists."""
    cursor = await tx.conn.execute(
        "INSERT INTO agents (name, first_seen, last_seen, first_message_id)"
        " VALUES (%s, %s, %s, (SELECT COALESCE(max(id), 0) FROM messages))"
        " ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen"
        " RETURNING name, first_seen, last_seen",
        [name, tx.now, tx.now],
    )
    row = await cursor.fetchone()
    assert row is not None
    return Agent(*row)


async def assign(tx: Tx, address: str, assignee: str | None, by: str) -> bool:
    """False, and no event, when it already was so (`IS DISTINCT FROM`: NULL is nobody)."""
    await require_conversation(tx, address)
    cursor = await tx.conn.execute(
        "UPDATE conversations SET assignee = %s WHERE address = %s AND assignee IS DISTINCT FROM %s",
        [assignee, address, assignee],
    )
    if cursor.rowcount:
        await add_event(tx, address, EventKind.ASSIGNED, by, assignee or "")
    return bool(cursor.rowcount)


async def set_conversation_status(tx: Tx, address: str, status: str, by: str, until: datetime | None) -> bool:
    """`until` only for a snooze (the store checked it is given); any other status clears it. The
    event's `detail` is the snooze's end as SQLite writes it (`codec.ts`)."""
    await require_conversation(tx, address)
    cursor = await tx.conn.execute(
        "UPDATE conversations SET status = %s, snoozed_until = %s WHERE address = %s"
        " AND (status IS DISTINCT FROM %s OR snoozed_until IS DISTINCT FROM %s)",
        [status, until, address, status, until],
    )
    if cursor.rowcount:
        await add_event(tx, address, EventKind.STATUS, by, status, ts(until) if until is not None else None)
    return bool(cursor.rowcount)


async def add_note(tx: Tx, address: str, author: str, body: str) -> int:
    """The note's event id (its time is `tx.now`)."""
    await require_conversation(tx, address)
    return await add_event(tx, address, EventKind.NOTE, author, body)


async def set_label(tx: Tx, address: str, label: str, present: bool, by: str) -> bool:
    """False when nothing changed: the insert's ON CONFLICT and the delete's row count decide, so
    two agents adding one label at once write one event."""
    await require_conversation(tx, address)
    if present:
        cursor = await tx.conn.execute(
            "INSERT INTO conversation_labels (address, label) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [address, label],
        )
    else:
        cursor = await tx.conn.execute(
            "DELETE FROM conversation_labels WHERE address = %s AND label = %s", [address, label]
        )
    if cursor.rowcount:
        await add_event(tx, address, EventKind.LABEL, by, ("+" if present else "-") + label)
    return bool(cursor.rowcount)


async def save_reply(tx: Tx, name: str, body: str, by: str) -> None:
    await tx.conn.execute(
        "INSERT INTO saved_replies (name, body, updated_by, updated_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,"
        " updated_at = excluded.updated_at",
        [name, body, by, tx.now],
    )


async def delete_reply(tx: Tx, name: str) -> bool:
    cursor = await tx.conn.execute("DELETE FROM saved_replies WHERE name = %s", [name])
    return bool(cursor.rowcount)


async def touch_presence(tx: Tx, agent: str, address: str, typing: bool) -> None:
    """One mark per agent, moved to `address`, ending `PRESENCE_TTL` from now; the heartbeat also
    keeps the agent's `last_seen` fresh (round-robin assignment picks agents seen recently)."""
    await tx.conn.execute(
        "INSERT INTO presence (agent, address, typing, until) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (agent) DO UPDATE SET address = excluded.address, typing = excluded.typing,"
        " until = excluded.until",
        [agent, address, typing, tx.now + PRESENCE_TTL],
    )
    await tx.conn.execute("UPDATE agents SET last_seen = %s WHERE name = %s", [tx.now, agent])


async def leave_presence(tx: Tx, agent: str) -> None:
    await tx.conn.execute("DELETE FROM presence WHERE agent = %s", [agent])


# --- reads --------------------------------------------------------------------------------------


def event_from_row(row: Sequence[Any]) -> ThreadEvent:
    """A `thread_events` row read with `EVENT_COLUMNS`."""
    return ThreadEvent(
        id=row[0],
        address=row[1],
        kind=EventKind(row[2]),
        author=row[3],
        body=row[4],
        created_at=row[5],
        detail=row[6],
    )


async def event_by_id(conn: Conn, event_id: int) -> ThreadEvent:
    cursor = await conn.execute(f"SELECT {EVENT_COLUMNS} FROM thread_events WHERE id = %s", [event_id])
    row = await cursor.fetchone()
    assert row is not None, f"thread event {event_id} was just written"
    return event_from_row(row)


async def thread_events(conn: Conn, address: str, limit: int) -> list[ThreadEvent]:
    """The latest `limit`, oldest first: read newest first along `thread_events_by_address`."""
    cursor = await conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM thread_events WHERE address = %s ORDER BY id DESC LIMIT %s",
        [address, limit],
    )
    return [event_from_row(row) for row in reversed(await cursor.fetchall())]


async def events_since(conn: Conn, since: int, upto: int) -> list[ThreadEvent]:
    """Events written by transactions in (`since`, `upto`], oldest first (`thread_events_by_change`)."""
    cursor = await conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM thread_events WHERE change_seq > %s AND change_seq <= %s"
        " ORDER BY change_seq, id",
        [since, upto],
    )
    return [event_from_row(row) for row in await cursor.fetchall()]


async def list_agents(conn: Conn) -> list[Agent]:
    cursor = await conn.execute("SELECT name, first_seen, last_seen FROM agents ORDER BY name")
    return [Agent(*row) for row in await cursor.fetchall()]


async def list_labels(conn: Conn) -> list[str]:
    cursor = await conn.execute("SELECT DISTINCT label FROM conversation_labels ORDER BY label")
    return [label for (label,) in await cursor.fetchall()]


async def labels_of(conn: Conn, addresses: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each conversation's labels, by name, for a page of the list."""
    if not addresses:
        return {}
    cursor = await conn.execute(
        "SELECT address, label FROM conversation_labels WHERE address = ANY(%s::text[])"
        " ORDER BY address, label",
        [list(addresses)],
    )
    found: dict[str, list[str]] = defaultdict(list)
    for address, label in await cursor.fetchall():
        found[address].append(label)
    return {address: tuple(labels) for address, labels in found.items()}


async def list_replies(conn: Conn) -> list[SavedReply]:
    cursor = await conn.execute("SELECT name, body, updated_by, updated_at FROM saved_replies ORDER BY name")
    return [SavedReply(*row) for row in await cursor.fetchall()]


async def presence(conn: Conn, address: str, now: datetime) -> list[Presence]:
    """Marks not yet ended at `now` (the store's clock, not the server's: tests move it by hand)."""
    cursor = await conn.execute(
        "SELECT agent, address, typing, until FROM presence WHERE address = %s AND until > %s ORDER BY agent",
        [address, now],
    )
    return [Presence(*row) for row in await cursor.fetchall()]


async def opt_history(conn: Conn, address: str) -> list[OptEvent]:
    cursor = await conn.execute(
        "SELECT action, source, at, message_sid FROM opt_events WHERE address = %s ORDER BY id", [address]
    )
    return [OptEvent(*row) for row in await cursor.fetchall()]


# --- the team's part of the conversation list ---------------------------------------------------


def effective_status(
    status: str, snoozed_until: datetime | None, now: datetime
) -> tuple[str, datetime | None]:
    """A snooze whose time has come (at `now`) is open again, with no snooze left."""
    if status == ConversationStatus.SNOOZED and snoozed_until is not None and snoozed_until <= now:
        return str(ConversationStatus.OPEN), None
    return status, snoozed_until


_SNOOZE_OVER = "(v.status = 'snoozed' AND v.snoozed_until IS NOT NULL AND v.snoozed_until <= %s)"
_SNOOZING = "(v.status = 'snoozed' AND (v.snoozed_until IS NULL OR v.snoozed_until > %s))"


def filter_clauses(where: ConversationFilter | None, now: datetime) -> tuple[list[str], list[object]]:
    """SQL conditions on `conversations v` for `where`, statuses as `effective_status` has them;
    parameters in the order the conditions are written."""
    clauses: list[str] = []
    params: list[object] = []
    if where is None:
        return clauses, params
    if where.assignee is not None:
        clauses.append("v.assignee = %s")
        params.append(where.assignee)
    if where.unassigned:
        clauses.append("v.assignee IS NULL")
    if where.statuses is not None:
        clauses.append(_status_clause(where.statuses, now, params))
    if where.label is not None:
        clauses.append("v.address IN (SELECT address FROM conversation_labels WHERE label = %s)")
        params.append(where.label)
    return clauses, params


def _status_clause(statuses: frozenset[str], now: datetime, params: list[object]) -> str:
    either: list[str] = []
    plain = sorted(str(s) for s in statuses if s != ConversationStatus.SNOOZED)
    if plain:
        either.append("(v.status = ANY(%s::text[]) AND v.status <> 'snoozed')")
        params.append(plain)
    if ConversationStatus.OPEN in statuses:
        either.append(_SNOOZE_OVER)
        params.append(now)
    if ConversationStatus.SNOOZED in statuses:
        either.append(_SNOOZING)
        params.append(now)
    return f"({' OR '.join(either)})" if either else "false"


async def unread_for(conn: Conn, agent: str | None) -> tuple[str, list[object]]:
    """The unread count of `conversations v` as an SQL expression: anyone's (the read model's)
    without `agent`, or for an agent never recorded; else the inbound messages after both the
    agent's read mark and their first sighting, counted along `messages_by_contact` (address, id)."""
    if agent is None:
        return "v.unread", []
    cursor = await conn.execute("SELECT first_message_id FROM agents WHERE name = %s", [agent])
    row = await cursor.fetchone()
    if row is None:
        return "v.unread", []
    first = int(row[0])
    expression = (
        "(CASE WHEN v.last_message_id <= %s THEN 0 ELSE (SELECT count(*) FROM messages u"
        " WHERE u.address = v.address AND u.direction = 'in' AND u.id > greatest(%s, COALESCE("
        "(SELECT r.last_read_id FROM agent_reads r WHERE r.agent = %s AND r.address = v.address), 0))) END)"
    )
    return expression, [first, first, agent]
