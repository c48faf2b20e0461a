"""The team inbox's reads (#14, `domain.team`): agents, thread events, labels, saved replies, presence,
the opt-out audit, and the parts of the conversation list the team adds (its filter, the per-agent
unread count, the status a snooze has when its time has come)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence

import aiosqlite

from wa_inbox.domain.team import (
    Agent,
    ConversationStatus,
    EventKind,
    OptEvent,
    Presence,
    SavedReply,
    ThreadEvent,
)
from wa_inbox.store.codec import parse_required_ts
from wa_inbox.store.types import ConversationFilter

_EVENT_COLUMNS = "id, address, kind, author, body, created_at, detail"

_SNOOZE_OVER = "(v.status = 'snoozed' AND v.snoozed_until IS NOT NULL AND v.snoozed_until <= ?)"
_SNOOZING = "(v.status = 'snoozed' AND (v.snoozed_until IS NULL OR v.snoozed_until > ?))"


def effective_status(status: str, snoozed_until: str | None, now: str) -> tuple[str, str | None]:
    """A snooze whose time has come (at `now`) is open again, with no snooze left."""
    if status == ConversationStatus.SNOOZED and snoozed_until is not None and snoozed_until <= now:
        return str(ConversationStatus.OPEN), None
    return status, snoozed_until


def filter_clauses(where: ConversationFilter | None, now: str) -> tuple[list[str], list[object]]:
    """SQL conditions on `conversations v` for `where`, statuses as `effective_status` has them."""
    clauses: list[str] = []
    params: list[object] = []
    if where is None:
        return clauses, params
    if where.assignee is not None:
        clauses.append("v.assignee = ?")
        params.append(where.assignee)
    if where.unassigned:
        clauses.append("v.assignee IS NULL")
    if where.statuses is not None:
        either: list[str] = []
        plain = sorted(str(s) for s in where.statuses if s != ConversationStatus.SNOOZED)
        if plain:
            either.append(f"(v.status IN ({','.join('?' * len(plain))}) AND v.status != 'snoozed')")
            params.extend(plain)
        if ConversationStatus.OPEN in where.statuses:
            either.append(_SNOOZE_OVER)
            params.append(now)
        if ConversationStatus.SNOOZED in where.statuses:
            either.append(_SNOOZING)
            params.append(now)
        clauses.append(f"({' OR '.join(either)})" if either else "0")
    if where.label is not None:
        clauses.append("v.address IN (SELECT address FROM conversation_labels WHERE label = ?)")
        params.append(where.label)
    return clauses, params


async def unread_for(db: aiosqlite.Connection, agent: str | None) -> tuple[str, list[object]]:
    """The unread count of `conversations v` as an SQL expression: anyone's (the read model's) without
    `agent`, or for an agent never recorded; else the inbound messages after both the agent's read
    mark and their first sighting, counted along `messages_by_contact` (address, id) from there."""
    if agent is None:
        return "v.unread", []
    rows = list(await db.execute_fetchall("SELECT first_message_id FROM agents WHERE name = ?", [agent]))
    if not rows:
        return "v.unread", []
    first = int(rows[0][0])
    expression = (
        "(CASE WHEN v.last_message_id <= ? THEN 0 ELSE (SELECT COUNT(*) FROM messages u"
        " WHERE u.address = v.address AND u.direction = 'in' AND u.id > max(?, COALESCE("
        "(SELECT r.last_read_id FROM agent_reads r WHERE r.agent = ? AND r.address = v.address), 0))) END)"
    )
    return expression, [first, first, agent]


async def labels_of(db: aiosqlite.Connection, addresses: Sequence[str]) -> dict[str, tuple[str, ...]]:
    if not addresses:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    rows = await db.execute_fetchall(
        f"SELECT address, label FROM conversation_labels WHERE address IN ({','.join('?' * len(addresses))})"
        " ORDER BY address, label",
        list(addresses),
    )
    for address, label in rows:
        found[address].append(label)
    return {address: tuple(labels) for address, labels in found.items()}


async def list_labels(db: aiosqlite.Connection) -> list[str]:
    return [
        row[0]
        for row in await db.execute_fetchall("SELECT DISTINCT label FROM conversation_labels ORDER BY label")
    ]


def _event(row: sqlite3.Row) -> ThreadEvent:
    return ThreadEvent(
        id=row[0],
        address=row[1],
        kind=EventKind(row[2]),
        author=row[3],
        body=row[4],
        created_at=parse_required_ts(row[5]),
        detail=row[6],
    )


async def thread_events(db: aiosqlite.Connection, address: str, limit: int) -> list[ThreadEvent]:
    rows = await db.execute_fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM thread_events WHERE address = ? ORDER BY id DESC LIMIT ?",
        [address, limit],
    )
    return [_event(row) for row in reversed(list(rows))]


async def event_by_id(db: aiosqlite.Connection, event_id: int) -> ThreadEvent:
    rows = list(
        await db.execute_fetchall(f"SELECT {_EVENT_COLUMNS} FROM thread_events WHERE id = ?", [event_id])
    )
    return _event(rows[0])


async def events_since(db: aiosqlite.Connection, since: int, upto: int) -> list[ThreadEvent]:
    """Events written by batches in (`since`, `upto`], oldest first (by `thread_events_by_change`)."""
    rows = await db.execute_fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM thread_events WHERE change_seq > ? AND change_seq <= ?"
        " ORDER BY change_seq, id",
        [since, upto],
    )
    return [_event(row) for row in rows]


def to_agent(row: Sequence[object]) -> Agent:
    name, first_seen, last_seen = row[:3]
    return Agent(str(name), parse_required_ts(str(first_seen)), parse_required_ts(str(last_seen)))


async def list_agents(db: aiosqlite.Connection) -> list[Agent]:
    rows = await db.execute_fetchall("SELECT name, first_seen, last_seen FROM agents ORDER BY name")
    return [to_agent(row) for row in rows]


async def list_replies(db: aiosqlite.Connection) -> list[SavedReply]:
    rows = await db.execute_fetchall(
        "SELECT name, body, updated_by, updated_at FROM saved_replies ORDER BY name"
    )
    return [SavedReply(name, body, by, parse_required_ts(at)) for name, body, by, at in rows]


async def presence(db: aiosqlite.Connection, address: str, now: str) -> list[Presence]:
    rows = await db.execute_fetchall(
        "SELECT agent, address, typing, until FROM presence WHERE address = ? AND until > ? ORDER BY agent",
        [address, now],
    )
    return [
        Presence(agent, where, bool(typing), parse_required_ts(until)) for agent, where, typing, until in rows
    ]


async def opt_history(db: aiosqlite.Connection, address: str) -> list[OptEvent]:
    rows = await db.execute_fetchall(
        "SELECT action, source, at, message_sid FROM opt_events WHERE address = ? ORDER BY id", [address]
    )
    return [OptEvent(action, source, parse_required_ts(at), sid) for action, source, at, sid in rows]
