"""Read queries and the mapping of their rows to domain dataclasses."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import aiosqlite

from wa_inbox.domain import window
from wa_inbox.domain.models import (
    Contact,
    Conversation,
    HostedFile,
    MediaDownload,
    MediaFile,
    MediaFileKind,
    MediaRef,
    Message,
    OutboundJob,
    Verdict,
    WebhookKind,
    WebhookRecord,
)
from wa_inbox.store import team_reads
from wa_inbox.store.codec import from_json, parse_required_ts, parse_ts, ts
from wa_inbox.store.rows import message_from_row
from wa_inbox.store.types import (
    STATS_TABLES,
    Changes,
    ConversationCounts,
    ConversationFilter,
    MessageQuery,
    OutboxDepth,
)

__all__ = ["Changes", "MessageQuery"]  # re-exported: they were defined here before wa_inbox.store.types

_MESSAGE_COLUMNS = """m.id, m.sid, m.direction, m.address, m.from_addr, m.to_addr, m.body,
    m.status, m.error_code, m.error_message, m.message_type, m.latitude, m.longitude,
    m.location_address, m.location_label, m.button_text, m.button_payload, m.referral,
    m.replied_to_sid, m.content_sid, m.content_variables, m.created_at, m.updated_at,
    m.read_by_agent_at, r.body, t.friendly_name, m.author"""
_LOOKUPS = """LEFT JOIN messages r ON r.sid = m.replied_to_sid
    LEFT JOIN templates t ON t.sid = m.content_sid"""
"""What the thread shows beside a message: the text it quotes and its template's name. Both by a unique
index (messages' sid, templates' primary key), one lookup per message read."""
_MESSAGES = f"messages m {_LOOKUPS}"

_CONTACT_COLUMNS = """c.address, c.profile_name, c.wa_id, c.last_inbound_at, c.opted_out,
    c.opted_out_at, c.opted_out_source"""


async def list_messages(db: aiosqlite.Connection, query: MessageQuery) -> list[Message]:
    """Newest first along the primary key; with a time bound, along `messages_by_created` (created_at,
    then the id the index holds), so that a period's page is a range of that index, however wide."""
    clauses, params = _message_filters(query)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "m.created_at DESC, m.id DESC" if query.by_time else "m.id DESC"
    sql = f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} {where} ORDER BY {order} LIMIT ?"
    rows = await db.execute_fetchall(sql, [*params, query.limit])
    return await _with_media(db, rows)


async def get_message(db: aiosqlite.Connection, sid: str) -> Message | None:
    rows = await db.execute_fetchall(f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} WHERE m.sid = ?", [sid])
    messages = await _with_media(db, rows)
    return messages[0] if messages else None


async def get_message_by_id(db: aiosqlite.Connection, message_id: int) -> Message | None:
    rows = await db.execute_fetchall(
        f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} WHERE m.id = ?", [message_id]
    )
    messages = await _with_media(db, rows)
    return messages[0] if messages else None


async def messages_changed_since(
    db: aiosqlite.Connection, seq: int, limit: int | None, upto: int = 2**63 - 1
) -> list[Message]:
    """The change feed: messages written by batches in (`seq`, `upto`], oldest first; all of them
    when `limit` is None."""
    rows = await db.execute_fetchall(
        f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} WHERE m.change_seq > ? AND m.change_seq <= ?"
        " ORDER BY m.change_seq, m.id LIMIT ?",
        [seq, upto, -1 if limit is None else limit],  # SQLite: a negative limit is none
    )
    return await _with_media(db, rows)


async def thread_page(
    db: aiosqlite.Connection, address: str, before_id: int | None, limit: int
) -> list[Message]:
    """One page of a conversation, oldest first, ending just before `before_id` (or at the newest)."""
    rows = await db.execute_fetchall(
        f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} WHERE m.address = ? AND m.id < ?"
        " ORDER BY m.id DESC LIMIT ?",
        [address, before_id if before_id is not None else 2**63 - 1, limit],
    )
    return list(reversed(await _with_media(db, rows)))


RANKED_WINDOW = 2000
"""Search ranks this many of the newest matches by relevance. Ranking every match of a common word in
a year of messages costs seconds; ranking the newest costs the same however long the history, and
an agent looking for a conversation looks for recent ones first."""


async def search(db: aiosqlite.Connection, text: str, limit: int, offset: int = 0) -> list[Message]:
    """Messages whose body has every word of `text` as a word prefix (accents ignored): the newest
    RANKED_WINDOW matches by bm25 relevance (ties newest first), the page at `offset`."""
    words = [w.replace('"', '""') for w in _printable(text).split()]
    if not words:
        return []
    match = " ".join(f'"{w}"*' for w in words)
    hits = await db.execute_fetchall(
        "SELECT id FROM (SELECT rowid AS id, bm25(messages_fts) AS score FROM messages_fts"
        " WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY score, id DESC LIMIT ? OFFSET ?",
        [match, max(RANKED_WINDOW, offset + limit), limit, offset],
    )
    ids = [row[0] for row in hits]
    rows = await db.execute_fetchall(
        f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} WHERE m.id IN ({','.join('?' * len(ids))})", ids
    )
    by_id = {message.id: message for message in await _with_media(db, rows)}
    return [by_id[i] for i in ids if i in by_id]


async def find_contacts(db: aiosqlite.Connection, text: str, limit: int) -> list[Contact]:
    """Customers whose name contains `text` (any case) or whose number contains its digits."""
    text = _printable(text).strip()
    if not text:
        return []
    name = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    digits = "".join(c for c in text if c in "0123456789")
    rows = await db.execute_fetchall(
        f"SELECT {_CONTACT_COLUMNS} FROM contacts c WHERE c.profile_name LIKE ? ESCAPE '\\'"
        " OR (? != '' AND instr(c.address, ?) > 0) ORDER BY c.profile_name IS NULL, c.profile_name LIMIT ?",
        [name, digits, digits, limit],
    )
    return [_contact(row) for row in rows]


def _printable(text: str) -> str:
    """Search text without control characters (a NUL would end SQLite's string early)."""
    return "".join(c if c.isprintable() else " " for c in text)


async def change_number(db: aiosqlite.Connection) -> int:
    ((seq,),) = list(await db.execute_fetchall("SELECT change_seq FROM meta WHERE id = 1"))
    return int(seq)


CHANGES_LIMIT = 1000
"""About this many messages (and thread events) per `changes_since`: a page ends at a whole batch."""


async def changes_since(
    db: aiosqlite.Connection, since: int, now: str, limit: int = CHANGES_LIMIT
) -> Changes:
    """Messages, conversations and thread events touched by batches in (`since`, `seq`]; `seq` is
    where the reader now is: the newest change number, or, when more than `limit` messages or events
    changed, the batch of the `limit`-th (whole), with `more` set. A conversation is touched by its
    messages, its contact, or its read model's row (unread count, assignee, status, labels, notes:
    `conversations.change_seq`); only those touched up to `seq` are reported, the rest come with
    the page that reaches their change."""
    newest = await change_number(db)
    if newest == since:
        return Changes(newest, [], [])
    seq = await _page_end(db, since, newest, limit)
    messages = await messages_changed_since(db, since, None, seq)
    touched = await db.execute_fetchall(
        "SELECT address FROM contacts WHERE change_seq > ? AND change_seq <= ?"
        " UNION SELECT address FROM conversations WHERE change_seq > ? AND change_seq <= ?",
        [since, seq, since, seq],
    )
    addresses = sorted({m.address for m in messages} | {row[0] for row in touched})
    conversations = await list_conversations(db, now, addresses=addresses) if addresses else []
    events = await team_reads.events_since(db, since, seq)
    return Changes(seq, messages, conversations, events, more=seq < newest)


async def _page_end(db: aiosqlite.Connection, since: int, newest: int, limit: int) -> int:
    """Where a page of the feed after `since` ends: `newest`, or sooner, at the change number of the
    `limit`-th message or thread event after `since` when rows of a later change follow it (by
    `messages_by_change`, `thread_events_by_change`): a page ends early only when there is more."""
    ends = [newest]
    for table in ("messages", "thread_events"):
        rows = await db.execute_fetchall(
            f"SELECT change_seq FROM {table} WHERE change_seq > ? AND change_seq <= ?"
            " ORDER BY change_seq LIMIT 1 OFFSET ?",
            [since, newest, limit - 1],
        )
        for (cut,) in rows:
            later = await db.execute_fetchall(
                f"SELECT 1 FROM {table} WHERE change_seq > ? AND change_seq <= ? LIMIT 1", [cut, newest]
            )
            if later:
                ends.append(int(cut))
    return min(ends)


async def data_version(db: aiosqlite.Connection) -> int:
    """Changes whenever another connection (another process) commits: a cheap "anything new?"."""
    rows = list(await db.execute_fetchall("PRAGMA data_version"))
    return int(rows[0][0])


async def get_contact(db: aiosqlite.Connection, address: str) -> Contact | None:
    rows = list(
        await db.execute_fetchall(f"SELECT {_CONTACT_COLUMNS} FROM contacts c WHERE address = ?", [address])
    )
    return _contact(rows[0]) if rows else None


async def list_conversations(
    db: aiosqlite.Connection,
    now: str,
    limit: int | None = None,
    addresses: Sequence[str] | None = None,
    after: Conversation | None = None,
    where: ConversationFilter | None = None,
    agent: str | None = None,
) -> list[Conversation]:
    """A page of the read model in list order (latest message first, those without one last), all
    by the `conversations_by_activity` index (or the assignee's, the status's): the page after
    `after`, or just `addresses`, of those `where` covers (a snooze that has ended at `now` is open).
    With `agent`, each unread count is that agent's (see `team_reads.unread_for`)."""
    clauses, params = team_reads.filter_clauses(where, now)
    unread, unread_params = await team_reads.unread_for(db, agent)
    if addresses is not None:
        clauses.append(f"v.address IN ({','.join('?' * len(addresses))})")
        params.extend(addresses)
    if after is not None:
        clauses.append("(v.last_message_id, v.address) < (?, ?)")
        params.extend([after.last_message.id if after.last_message else 0, after.contact.address])
    filtered = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"""
        SELECT {_CONTACT_COLUMNS}, {unread}, v.last_message_id, v.status, v.assignee, v.snoozed_until
        FROM conversations v JOIN contacts c ON c.address = v.address {filtered}
        ORDER BY v.last_message_id DESC, v.address DESC LIMIT ?"""
    rows = list(await db.execute_fetchall(sql, [*unread_params, *params, -1 if limit is None else limit]))
    return await _conversations(db, rows, now)


async def _conversations(db: aiosqlite.Connection, rows: list[sqlite3.Row], now: str) -> list[Conversation]:
    """Each row with its last message and its labels, read by key for the page alone."""
    last_ids = [row[8] for row in rows if row[8]]
    marks = ",".join("?" * len(last_ids))
    last = await db.execute_fetchall(
        f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES} WHERE m.id IN ({marks})", last_ids
    )
    by_id = {message.id: message for message in await _with_media(db, last)}
    labels = await team_reads.labels_of(db, [row[0] for row in rows])
    return [_conversation(row, by_id.get(row[8]), labels.get(row[0], ()), now) for row in rows]


async def conversation_counts(
    db: aiosqlite.Connection, now: str, where: ConversationFilter | None = None, agent: str | None = None
) -> ConversationCounts:
    """Totals of the conversations `where` covers; with `agent`, of that agent's unread counts."""
    clauses, params = team_reads.filter_clauses(where, now)
    unread, unread_params = await team_reads.unread_for(db, agent)
    filtered = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = list(
        await db.execute_fetchall(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE n > 0), COALESCE(SUM(n), 0)"
            f" FROM (SELECT {unread} AS n FROM conversations v {filtered})",
            [*unread_params, *params],
        )
    )
    total, unread_conversations, unread_messages = rows[0]
    return ConversationCounts(int(total), int(unread_conversations), int(unread_messages))


async def get_draft(db: aiosqlite.Connection, address: str) -> str:
    rows = list(await db.execute_fetchall("SELECT body FROM drafts WHERE address = ?", [address]))
    return str(rows[0][0]) if rows else ""


async def count_drafts(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("SELECT COUNT(*) FROM drafts"))
    return int(rows[0][0])


_JOB_COLUMNS = """id, to_addr, body, content_sid, content_variables, opt_confirmation, created_at,
    sending_started_at, attempts"""


async def outbound_jobs(db: aiosqlite.Connection, where: str, params: Sequence[object]) -> list[OutboundJob]:
    rows = list(
        await db.execute_fetchall(f"SELECT {_JOB_COLUMNS} FROM messages WHERE {where} ORDER BY id", params)
    )
    media: dict[int, list[str]] = defaultdict(list)
    if rows:
        marks = ",".join("?" * len(rows))
        for message_id, url in await db.execute_fetchall(
            f"SELECT message_id, twilio_url FROM media WHERE message_id IN ({marks}) ORDER BY position",
            [row[0] for row in rows],
        ):
            media[message_id].append(url)
    return [_job(row, tuple(media.get(row[0], ()))) for row in rows]


async def media_downloads(db: aiosqlite.Connection, ids: Sequence[int]) -> list[MediaDownload]:
    marks = ",".join("?" * len(ids))
    rows = await db.execute_fetchall(
        "SELECT f.id, m.sid, f.position, f.twilio_url, f.content_type, f.attempts FROM media f"
        f" JOIN messages m ON m.id = f.message_id WHERE f.id IN ({marks}) ORDER BY f.id",
        ids,
    )
    return [MediaDownload(*row) for row in rows]


async def get_hosted_file(db: aiosqlite.Connection, file_id: str) -> HostedFile | None:
    rows = list(
        await db.execute_fetchall(
            "SELECT id, path, filename, content_type, size_bytes, removed_reason FROM media_files"
            " WHERE id = ?",
            [file_id],
        )
    )
    return HostedFile(*rows[0]) if rows else None


async def expired_media(
    db: aiosqlite.Connection, before: str, limit: int, after: MediaFile | None
) -> list[MediaFile]:
    """Files on disk stored before `before`, by (stored time, kind, id), after the cursor `after`.

    Each kind reads at most `limit` rows along its partial index (`media_on_disk`, by download time
    and id; `media_files_on_disk`, by attach time and id) from the cursor on, and the two are merged:
    a page reads at most twice `limit` rows, however many files have expired. "hosted" sorts before
    "inbound", so after an inbound cursor every hosted file of the same instant was listed already.
    """
    since, inbound_id, hosted_id = "", 0, ""
    hosted_after = "(created_at, id) > (:since, :hosted_id)"
    if after is not None:
        since = ts(after.stored_at)
        if after.kind is MediaFileKind.INBOUND:
            inbound_id = int(after.key)
            hosted_after = "created_at > :since"
        else:
            hosted_id = after.key
    rows = await db.execute_fetchall(
        "SELECT * FROM (SELECT 'inbound' AS kind, id AS key, local_path AS path, fetched_at AS stored_at"
        "  FROM media WHERE local_path IS NOT NULL AND fetched_at < :before"
        "  AND (fetched_at, id) > (:since, :inbound_id) ORDER BY fetched_at, id LIMIT :limit)"
        " UNION ALL"
        " SELECT * FROM (SELECT 'hosted', id, path, created_at FROM media_files"
        f"  WHERE removed_at IS NULL AND created_at < :before AND {hosted_after}"
        "  ORDER BY created_at, id LIMIT :limit)"
        " ORDER BY stored_at, kind, key LIMIT :limit",
        {"since": since, "before": before, "inbound_id": inbound_id, "hosted_id": hosted_id, "limit": limit},
    )
    return [
        MediaFile(MediaFileKind(kind), str(key), path, parse_required_ts(stored_at))
        for kind, key, path, stored_at in rows
    ]


async def outbox_depth(db: aiosqlite.Connection) -> OutboxDepth:
    """Both counts and the oldest pending one from the `messages_unsent` partial index: it holds only
    the unsent rows, so this costs the queue's length, never the history's."""
    rows = await db.execute_fetchall(
        "SELECT status, COUNT(*) FROM messages WHERE status IN ('pending', 'sending') GROUP BY status"
    )
    counts = {status: count for status, count in rows}
    oldest = list(
        await db.execute_fetchall(  # the IN repeats the index's condition, so that SQLite uses it
            "SELECT created_at FROM messages WHERE status IN ('pending', 'sending') AND status = 'pending'"
            " ORDER BY id LIMIT 1"
        )
    )
    return OutboxDepth(
        counts.get("pending", 0), counts.get("sending", 0), parse_ts(oldest[0][0]) if oldest else None
    )


async def claimed_sids(db: aiosqlite.Connection, sids: Sequence[str]) -> set[str]:
    """Which of `sids` already belong to a message we queued (placeholders made by callbacks do not)."""
    marks = ",".join("?" * len(sids))
    rows = await db.execute_fetchall(
        f"SELECT sid FROM messages WHERE sid IN ({marks}) AND idempotency_key IS NOT NULL", sids
    )
    return {row[0] for row in rows}


async def last_webhook_at(db: aiosqlite.Connection) -> datetime | None:
    """When the latest request written to the log arrived.

    Read backwards along the row id, the table's own index: the newest row comes first, so this reads
    one row however long the log. An index on `received_at` would cost every
    webhook an entry.
    """
    rows = list(await db.execute_fetchall("SELECT received_at FROM webhook_log ORDER BY id DESC LIMIT 1"))
    return parse_ts(rows[0][0]) if rows else None


async def rejected_webhooks(db: aiosqlite.Connection, limit: int) -> list[WebhookRecord]:
    """The latest refused webhooks with their reasons, for the agent's "why was this refused?"."""
    rows = await db.execute_fetchall(
        "SELECT kind, path, verdict, body, headers, received_at, reason, message_sid, body_bytes,"
        " header_bytes FROM webhook_log WHERE verdict NOT IN ('accepted', 'duplicate')"
        " ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return [
        WebhookRecord(
            WebhookKind(r[0]),
            r[1],
            Verdict(r[2]),
            r[3],
            from_json(r[4]),
            parse_required_ts(r[5]),
            r[6],
            r[7],
            r[8],
            r[9],
        )
        for r in rows
    ]


async def count_rejected_webhooks(db: aiosqlite.Connection) -> int:
    rows = list(
        await db.execute_fetchall(
            "SELECT COUNT(*) FROM webhook_log WHERE verdict NOT IN ('accepted', 'duplicate')"
        )
    )
    return int(rows[0][0])


async def row_counts(db: aiosqlite.Connection) -> dict[str, int]:
    """Exact: SQLite counts along each table's smallest index (a year of messages: milliseconds warm)."""
    counts = " UNION ALL ".join(f"SELECT '{table}', COUNT(*) FROM {table}" for table in STATS_TABLES)
    return {table: int(count) for table, count in await db.execute_fetchall(counts)}


async def media_bytes(db: aiosqlite.Connection) -> int:
    """Downloaded media plus files hosted for Twilio to fetch."""
    rows = list(
        await db.execute_fetchall(
            "SELECT (SELECT COALESCE(SUM(size_bytes), 0) FROM media WHERE local_path IS NOT NULL)"
            " + (SELECT COALESCE(SUM(size_bytes), 0) FROM media_files)"
        )
    )
    return int(rows[0][0])


async def pragma(db: aiosqlite.Connection, name: str) -> int:
    rows = list(await db.execute_fetchall(f"PRAGMA {name}"))
    return int(rows[0][0])


def _message_filters(query: MessageQuery) -> tuple[list[str], list[object]]:
    after = (
        "(m.created_at, m.id) < (SELECT created_at, id FROM messages WHERE id = ?)"
        if query.by_time
        else "m.id < ?"
    )
    pairs = [
        ("m.to_addr = ?", query.to_addr),
        ("m.from_addr = ?", query.from_addr),
        ("m.direction = ?", query.direction),
        ("m.status = ?", query.status),
        ("m.created_at >= ?", ts(query.created_since) if query.created_since else None),
        ("m.created_at < ?", ts(query.created_before) if query.created_before else None),
        (after, query.before_id),
    ]
    kept = [(clause, value) for clause, value in pairs if value is not None]
    return [clause for clause, _ in kept], [value for _, value in kept]


async def _with_media(db: aiosqlite.Connection, rows: Iterable[sqlite3.Row]) -> list[Message]:
    rows = list(rows)
    ids = [row[0] for row in rows]
    media: dict[int, list[MediaRef]] = defaultdict(list)
    if ids:
        marks = ",".join("?" * len(ids))
        for message_id, *ref in await db.execute_fetchall(
            f"SELECT message_id, position, twilio_url, content_type, local_path,"
            f" CASE WHEN gave_up THEN last_error END, size_bytes, removed_reason FROM media"
            f" WHERE message_id IN ({marks}) ORDER BY message_id, position",
            ids,
        ):
            media[message_id].append(MediaRef(*ref))
    return [_message(row, tuple(media.get(row[0], ()))) for row in rows]


def _message(row: sqlite3.Row, media: tuple[MediaRef, ...]) -> Message:
    return message_from_row(row, media, parse_required_ts)


def _job(row: sqlite3.Row, media_urls: tuple[str, ...]) -> OutboundJob:
    return OutboundJob(
        id=row[0],
        address=row[1],
        body=row[2],
        media_urls=media_urls,
        content_sid=row[3],
        content_variables=from_json(row[4]),
        opt_confirmation=bool(row[5]),
        created_at=parse_required_ts(row[6]),
        sending_started_at=parse_ts(row[7]),
        attempts=row[8],
    )


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(
        address=row[0],
        profile_name=row[1],
        wa_id=row[2],
        last_inbound_at=parse_ts(row[3]),
        opted_out=bool(row[4]),
        opted_out_at=parse_ts(row[5]),
        opted_out_source=row[6],
    )


def _conversation(row: sqlite3.Row, last: Message | None, labels: tuple[str, ...], now: str) -> Conversation:
    contact = _contact(row)
    status, snoozed_until = team_reads.effective_status(row[9], row[11], now)
    return Conversation(
        contact=contact,
        last_message=last,
        unread_count=int(row[7]),
        window_expires_at=window.expires_at(contact.last_inbound_at),
        status=status,
        assignee=row[10],
        snoozed_until=parse_ts(snoozed_until),
        labels=labels,
    )
