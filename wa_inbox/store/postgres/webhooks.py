"""Webhooks on PostgreSQL: a customer's message and a status callback, each with its raw log row in the
same transaction; refused requests kept as samples; the raw log's retention and reads.

Several receivers (replicas behind a load balancer) may take Twilio's retries of one webhook at the same
moment, so nothing here reads first and writes after: a message is new when its SID's row is inserted
(`INSERT … ON CONFLICT DO NOTHING RETURNING`), a callback when its (SID, status) pair is. Of any number
of concurrent ingests of one webhook, exactly one inserts; the others wait for it to commit, find the
key taken, and log a duplicate.

A webhook's write happens at its arrival: every time it stamps (the window's last inbound, the rows'
times, the log's, its event's) is `record.received_at`, as in SQLite, not the store's clock.

With the event stream on, the receiver hands each ingest its `Event`: written to the event outbox
(`events.py`) in the same transaction, only when the webhook is new, so a retry makes none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.errors import describe
from wa_inbox.domain.events import Event
from wa_inbox.domain.models import (
    Direction,
    InboundMessage,
    StatusUpdate,
    Verdict,
    WebhookKind,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import SYSTEM
from wa_inbox.store.codec import from_json, secret_header, to_json
from wa_inbox.store.postgres import events, media, outbox, team
from wa_inbox.store.postgres.tx import Tx

PRUNE_BATCH = 1000
"""Rows deleted per transaction: other writes wait for one batch at a time, never for the whole job."""

_REFUSED = "verdict NOT IN ('accepted', 'duplicate')"
"""The rows `rejected_webhooks` lists (the partial index `webhook_log_rejections` covers them)."""


def _at_arrival(tx: Tx, record: WebhookRecord) -> Tx:
    """The same transaction, its time the webhook's arrival."""
    return Tx(tx.conn, record.received_at)


async def ingest_inbound(
    tx: Tx,
    msg: InboundMessage,
    record: WebhookRecord,
    opt_action: OptAction | None,
    confirmation: str | None,
    event: Event | None = None,
) -> bool:
    """A customer's message, its raw log row, the STOP/START it carries and, when it is new, its
    `event`; False for a retry.

    A new message reopens the conversation when it was resolved or snoozed, with a `status` event by
    `system`; the STOP/START applies once (`outbox.set_opt_state` changes only a contact in the other
    state), and only then is its confirmation queued (its key made of the message's SID)."""
    at = _at_arrival(tx, record)
    if await _insert_inbound(at, msg, record.body) is None:
        await log_webhook(at, record, Verdict.DUPLICATE)
        return False
    await log_webhook(at, record)
    if event is not None:  # after the message locked its contact: one customer's ids in commit order
        await events.insert_event(at, event)
    await team.reopen_on_inbound(at, msg.from_addr)
    if opt_action is None:
        return True
    source = f"keyword {msg.body.strip()!r}"
    changed = await outbox.set_opt_state(at, msg.from_addr, opt_action, source, msg.sid)
    if changed and confirmation:
        draft = Draft(address=msg.from_addr, body=confirmation, author=SYSTEM)
        key = f"opt-confirmation:{msg.sid}"
        await outbox.queue_outbound(at, draft, key, opt_confirmation=opt_action is OptAction.STOP)
    return True


async def _insert_inbound(tx: Tx, msg: InboundMessage, raw_body: str) -> int | None:
    """Store a customer's message once (with the request's body, `raw_body`), its media due for
    download; None when Twilio sent it before. The contact's last inbound time only moves forward:
    two replicas may commit a customer's messages in either order."""
    await outbox.ensure_contact(tx, msg.from_addr)
    location = msg.location
    cursor = await tx.conn.execute(
        """INSERT INTO messages (
            sid, direction, address, from_addr, to_addr, messaging_service_sid, body,
            message_type, num_media, latitude, longitude, location_address, location_label,
            button_text, button_payload, referral, replied_to_sid, forwarded, frequently_forwarded,
            status, status_rank, raw_body, created_at, updated_at)
        VALUES (%s, 'in', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
            'received', %s, %s, %s, %s)
        ON CONFLICT (sid) DO NOTHING RETURNING id""",
        (
            msg.sid,
            msg.from_addr,
            msg.from_addr,
            msg.to_addr,
            msg.messaging_service_sid,
            msg.body,
            msg.message_type,
            len(msg.media),
            location.latitude if location else None,
            location.longitude if location else None,
            location.address if location else None,
            location.label if location else None,
            msg.button_text,
            msg.button_payload,
            to_json(msg.referral) if msg.referral else None,
            msg.replied_to_sid,
            msg.forwarded,
            msg.frequently_forwarded,
            status_rules.rank("received"),
            raw_body,
            tx.now,
            tx.now,
        ),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    message_id = int(row[0])
    await media.insert_media(tx, message_id, [(m.index, m.url, m.content_type, None) for m in msg.media])
    await tx.conn.execute(
        "UPDATE contacts SET profile_name = COALESCE(%s, profile_name), wa_id = COALESCE(%s, wa_id),"
        " last_inbound_at = GREATEST(last_inbound_at, %s) WHERE address = %s",
        (msg.profile_name, msg.wa_id, tx.now, msg.from_addr),
    )
    return message_id


async def ingest_status(
    tx: Tx, update: StatusUpdate, record: WebhookRecord, event: Event | None = None
) -> bool:
    """A status callback, its raw log row and, when it is new, its `event`; False when this (SID,
    status) pair came before."""
    at = _at_arrival(tx, record)
    new = await _apply_status(at, update)
    await log_webhook(at, record, None if new else Verdict.DUPLICATE)
    if new and event is not None:  # after `_apply_status` locked the SID: its statuses in commit order
        await events.insert_event(at, event)
    return new


async def _apply_status(tx: Tx, update: StatusUpdate) -> bool:
    """Record a callback once; move the message only up in rank; an error code meaning the customer
    opted out opts them out. Callbacks and the acceptance of one SID take turns (`outbox.lock_sid`),
    so a placeholder for a SID not stored yet is made once, and folded in by `record_accepted`."""
    cursor = await tx.conn.execute(
        "INSERT INTO status_events (message_sid, status, error_code, error_message, received_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (message_sid, status) DO NOTHING RETURNING id",
        (update.sid, update.status, update.error_code, update.error_message, tx.now),
    )
    if await cursor.fetchone() is None:
        return False
    await outbox.lock_sid(tx, update.sid)
    if not await _raise_status(tx, update) and not await _message_exists(tx, update.sid):
        await _insert_placeholder(tx, update)
    info = describe(update.error_code)
    if info is not None and info.marks_opted_out and update.to_addr:
        await outbox.set_opt_state(
            tx, update.to_addr, OptAction.STOP, f"twilio error {info.code}", update.sid
        )
    return True


async def _raise_status(tx: Tx, update: StatusUpdate) -> bool:
    """The rank guard is in the WHERE: a concurrent update of the row makes this one wait and then
    judge the committed rank, so a late `sent` never undoes a `delivered` however they interleave."""
    rank = status_rules.rank(update.status)
    cursor = await tx.conn.execute(
        "UPDATE messages SET status = %s, status_rank = %s, error_code = COALESCE(%s, error_code),"
        " error_message = COALESCE(%s, error_message), updated_at = %s"
        " WHERE sid = %s AND status_rank < %s",
        (update.status, rank, update.error_code, update.error_message, tx.now, update.sid, rank),
    )
    return bool(cursor.rowcount)


async def _message_exists(tx: Tx, sid: str) -> bool:
    cursor = await tx.conn.execute("SELECT 1 FROM messages WHERE sid = %s", (sid,))
    return await cursor.fetchone() is not None


async def _insert_placeholder(tx: Tx, update: StatusUpdate) -> None:
    """A callback for a message sent elsewhere (the console, say), or ahead of our `record_accepted`,
    becomes an outbound row we can show; without a recipient there is nothing to show it in."""
    if not update.to_addr:
        return
    await outbox.ensure_contact(tx, update.to_addr)
    await tx.conn.execute(
        "INSERT INTO messages (sid, direction, address, from_addr, to_addr, messaging_service_sid,"
        " status, status_rank, error_code, error_message, created_at, updated_at, read_by_agent_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (sid) DO NOTHING",
        (
            update.sid,
            str(Direction.OUTBOUND),
            update.to_addr,
            update.from_addr,
            update.to_addr,
            update.messaging_service_sid,
            update.status,
            status_rules.rank(update.status),
            update.error_code,
            update.error_message,
            tx.now,
            tx.now,
            tx.now,
        ),
    )


async def log_webhook(tx: Tx, record: WebhookRecord, verdict: Verdict | None = None) -> None:
    """Keep the request in the raw log, received at `tx.now`, without its secret headers (a valid
    signature, credentials, cookies); `verdict` overrides the record's once the write knows it."""
    await _log(tx, record, verdict or record.verdict)


async def log_rejection(tx: Tx, record: WebhookRecord) -> None:
    """Keep a refused request as the receiver cut it, with the sizes of what came, at its arrival."""
    await _log(_at_arrival(tx, record), record, record.verdict)


async def _log(tx: Tx, record: WebhookRecord, verdict: Verdict) -> None:
    kept = {name: value for name, value in record.headers.items() if not secret_header(name)}
    await tx.conn.execute(
        "INSERT INTO webhook_log (received_at, kind, path, verdict, reason, message_sid, body, headers,"
        " body_bytes, header_bytes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            tx.now,
            str(record.kind),
            record.path,
            str(verdict),
            record.reason,
            record.message_sid,
            record.body,
            to_json(kept),
            record.body_bytes,
            record.header_bytes,
        ),
    )


async def prune(tx: Tx, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` of the oldest rows that arrived before `before`; how many went.

    Along the `received_at` index, so each batch reads only the rows it deletes however long the log,
    and rows that replicas wrote out of id order all go. Rows another pruner is deleting are skipped
    (`SKIP LOCKED`), not waited for: two replicas pruning at once share the work. The caller repeats
    while whole batches go."""
    cursor = await tx.conn.execute(
        "DELETE FROM webhook_log WHERE id IN (SELECT id FROM webhook_log WHERE received_at < %s"
        " ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED)",
        (before, batch),
    )
    return cursor.rowcount


async def nothing(tx: Tx) -> None:
    """A transaction that takes a transaction id, so that its commit is a real, flushed one: the
    health check's proof that the server commits (a standby in recovery, or a full disk, refuses)."""
    await tx.conn.execute("SELECT pg_current_xact_id()")


async def last_webhook_at(conn: AsyncConnection[Any]) -> datetime | None:
    """When the latest request written to the log arrived: the top of the `received_at` index, one
    row however long the log (replicas write rows out of arrival order, so not the highest id)."""
    cursor = await conn.execute("SELECT max(received_at) FROM webhook_log")
    row = await cursor.fetchone()
    return row[0] if row else None


async def rejected_webhooks(conn: AsyncConnection[Any], limit: int) -> list[WebhookRecord]:
    """The latest refused requests with their reasons, for the agent's "why was this refused?"."""
    cursor = await conn.execute(
        "SELECT kind, path, verdict, body, headers, received_at, reason, message_sid, body_bytes,"
        f" header_bytes FROM webhook_log WHERE {_REFUSED} ORDER BY id DESC LIMIT %s",
        (limit,),
    )
    return [
        WebhookRecord(
            WebhookKind(r[0]),
            r[1],
            Verdict(r[2]),
            r[3],
            from_json(r[4]),
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
        )
        for r in await cursor.fetchall()
    ]


async def count_rejected_webhooks(conn: AsyncConnection[Any]) -> int:
    cursor = await conn.execute(f"SELECT COUNT(*) FROM webhook_log WHERE {_REFUSED}")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
