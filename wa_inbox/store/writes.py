"""Write transactions' steps, run by the writer process inside the batch transaction it opened.

Every write step here takes `tx: Tx` first (see `tx`): the open connection, the batch's change
number and the write's time, formatted once per write in the parent process (not once per column: it
showed in the ingest profile). No step takes a connection, a change number or "now" of its own; a
second time (a lease's end, a retry) is an ordinary argument. Steps never commit and return plain
values. Those the store submits whole are registered with `@command`; the rest are called by commands
(see `commands`) and by each other. A write entry point exists once: no function here shares its name
with one in `commands`.
"""

from __future__ import annotations

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import (
    Direction,
    HostedFile,
    InboundMessage,
    StatusUpdate,
    Verdict,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store import lease as sender_lease
from wa_inbox.store import team_writes
from wa_inbox.store.codec import secret_header, to_json
from wa_inbox.store.errors import StoreError
from wa_inbox.store.tx import Tx, command

LoggedRequest = tuple[str, str, str, str | None, str | None, str, dict[str, str]]
"""A webhook for the raw log: (kind, path, verdict, reason, message sid, body, headers), in plain values."""


def log_webhook(tx: Tx, request: LoggedRequest, verdict: Verdict | None = None) -> None:
    """Keep the request in the raw log, received at `tx.now`; `verdict` overrides the request's once
    the write knows it."""
    kind, path, logged_verdict, reason, message_sid, body, headers = request
    kept = {k: v for k, v in headers.items() if not secret_header(k)}
    tx.conn.execute(
        "INSERT INTO webhook_log (received_at, kind, path, verdict, reason, message_sid, body, headers)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (tx.now, kind, path, verdict or logged_verdict, reason, message_sid, body, to_json(kept)),
    )


def ensure_contact(tx: Tx, address: str) -> None:
    tx.conn.execute(
        "INSERT INTO contacts (address, created_at) VALUES (?, ?) ON CONFLICT (address) DO NOTHING",
        (address, tx.now),
    )


def insert_inbound(tx: Tx, msg: InboundMessage, raw_body: str) -> int | None:
    """Store a customer's message once; None when Twilio sent it before (a retry)."""
    ensure_contact(tx, msg.from_addr)
    now, seq = tx.now, tx.seq
    location = msg.location
    row = tx.conn.execute(
        """INSERT INTO messages (
            sid, direction, address, from_addr, to_addr, messaging_service_sid, body,
            message_type, num_media, latitude, longitude, location_address, location_label,
            button_text, button_payload, referral, replied_to_sid, forwarded, frequently_forwarded,
            status, status_rank, raw_body, created_at, updated_at, change_seq)
        VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?)
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
            now,
            now,
            seq,
        ),
    ).fetchone()
    if row is None:
        return None
    message_id = int(row[0])
    _insert_media(tx, message_id, [(m.index, m.url, m.content_type, None) for m in msg.media])
    tx.conn.execute(
        "UPDATE contacts SET profile_name = COALESCE(?, profile_name), wa_id = COALESCE(?, wa_id),"
        " last_inbound_at = ?, change_seq = ? WHERE address = ?",
        (msg.profile_name, msg.wa_id, now, seq, msg.from_addr),
    )
    return message_id


@command
def set_opt_state(
    tx: Tx, address: str, action: OptAction, source: str, message_sid: str | None = None
) -> bool:
    """Flip the opt-out flag with an audit row, making the contact first if it is new; False when the
    contact was already in that state.

    Submitted whole for an agent's change by hand; a STOP/START keyword and a Twilio error that means
    opted out call it inside their ingest, with the message that carried it.
    """
    ensure_contact(tx, address)
    now = tx.now
    opted_out = action is OptAction.STOP
    changed = tx.conn.execute(
        "UPDATE contacts SET opted_out = ?, opted_out_at = ?, opted_out_source = ?, change_seq = ?"
        " WHERE address = ? AND opted_out != ?",
        (
            opted_out,
            now if opted_out else None,
            source if opted_out else None,
            tx.seq,
            address,
            opted_out,
        ),
    ).rowcount
    if not changed:
        return False
    tx.conn.execute(
        "INSERT INTO opt_events (address, action, source, message_sid, at) VALUES (?, ?, ?, ?, ?)",
        (address, action, source, message_sid, now),
    )
    return True


@command
def queue_outbound(tx: Tx, draft: Draft, idempotency_key: str, opt_confirmation: bool = False) -> int | None:
    """Queue a message in local state `pending` for the sender; None if that key was queued before."""
    ensure_contact(tx, draft.address)
    now = tx.now
    row = tx.conn.execute(
        "INSERT INTO messages (idempotency_key, direction, address, to_addr, body, num_media,"
        " content_sid, content_variables, status, status_rank, created_at, updated_at,"
        " read_by_agent_at, opt_confirmation, change_seq, author)"
        " VALUES (?, 'out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        (
            idempotency_key,
            draft.address,
            draft.address,
            draft.body or draft.preview,
            len(draft.media),
            draft.content_sid,
            to_json(draft.content_variables) if draft.is_template else None,
            status_rules.PENDING,
            status_rules.rank(status_rules.PENDING),
            now,
            now,
            now,
            opt_confirmation,
            tx.seq,
            draft.author,
        ),
    ).fetchone()
    if row is None:
        return None
    message_id = int(row[0])
    media = [(i, m.url, m.content_type or "", m.size_bytes) for i, m in enumerate(draft.media)]
    _insert_media(tx, message_id, media)
    return message_id


def _insert_media(tx: Tx, message_id: int, items: list[tuple[int, str, str, int | None]]) -> None:
    """(position, url, content type, size) of each attachment, inbound or outbound."""
    tx.conn.executemany(
        "INSERT INTO media (message_id, position, twilio_url, content_type, size_bytes)"
        " VALUES (?, ?, ?, ?, ?)",
        [(message_id, *item) for item in items],
    )


@command
def claim_unsent(
    tx: Tx, limit: int, message_id: int | None = None, lease: tuple[str, int] | None = None
) -> list[int]:
    """Move pending messages (or just `message_id`) to `sending` before any request leaves.

    Claimed in one UPDATE, so two senders on one database never both get a message, and a crash
    leaves the trace. With `lease` (owner, term), nothing is claimed unless that is the live sender
    lease, and each claim records it; without, the claim records no owner (seeding, tests), and any
    holder's recovery takes it as left behind.
    """
    if lease is not None and not sender_lease.holds(tx, *lease):
        return []
    owner, term = lease if lease is not None else (None, None)
    rows = tx.conn.execute(
        "UPDATE messages SET status = 'sending', sending_started_at = ?, attempts = attempts + 1,"
        " sending_owner = ?, sending_term = ?, change_seq = ? WHERE id IN (SELECT id FROM messages"
        " WHERE status = 'pending' AND (? IS NULL OR id = ?) ORDER BY id LIMIT ?) RETURNING id",
        (tx.now, owner, term, tx.seq, message_id, message_id, limit),
    ).fetchall()
    return sorted(int(row[0]) for row in rows)


@command
def record_accepted(
    tx: Tx, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
) -> None:
    """Give the row Twilio's SID. Callbacks may have beaten the response here: fold their row in."""
    rank = status_rules.rank(status)
    early = tx.conn.execute(
        "DELETE FROM messages WHERE sid = ? AND idempotency_key IS NULL"
        " RETURNING status, status_rank, error_code, error_message",
        (sid,),
    ).fetchone()
    if early is not None and early[1] > rank:
        status, rank = early[0], early[1]
    tx.conn.execute(
        "UPDATE messages SET sid = ?, status = ?, status_rank = ?, from_addr = COALESCE(?, from_addr),"
        " messaging_service_sid = ?, error_code = COALESCE(?, error_code),"
        " error_message = COALESCE(?, error_message), updated_at = ?, change_seq = ? WHERE id = ?",
        (
            sid,
            status,
            rank,
            from_addr,
            messaging_service_sid,
            early[2] if early else None,
            early[3] if early else None,
            tx.now,
            tx.seq,
            message_id,
        ),
    )


@command
def record_failed(tx: Tx, message_id: int, error_code: int | None, error_message: str) -> None:
    tx.conn.execute(
        "UPDATE messages SET status = 'failed', status_rank = ?, error_code = ?, error_message = ?,"
        " updated_at = ?, change_seq = ? WHERE id = ?",
        (status_rules.rank("failed"), error_code, error_message, tx.now, tx.seq, message_id),
    )


def apply_status(tx: Tx, update: StatusUpdate) -> bool:
    """Record a callback once; move the message only up in rank. False for a repeated callback."""
    new_event = tx.conn.execute(
        "INSERT INTO status_events (message_sid, status, error_code, error_message, received_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_sid, status) DO NOTHING",
        (update.sid, update.status, update.error_code, update.error_message, tx.now),
    ).rowcount
    if not new_event:
        return False
    if not _raise_status(tx, update) and not _message_exists(tx, update.sid):
        _insert_placeholder(tx, update)
    info = describe(update.error_code)
    if info is not None and info.marks_opted_out and update.to_addr:
        set_opt_state(tx, update.to_addr, OptAction.STOP, f"twilio error {info.code}", update.sid)
    return True


def _raise_status(tx: Tx, update: StatusUpdate) -> bool:
    rank = status_rules.rank(update.status)
    return bool(
        tx.conn.execute(
            "UPDATE messages SET status = ?, status_rank = ?, error_code = COALESCE(?, error_code),"
            " error_message = COALESCE(?, error_message), updated_at = ?, change_seq = ?"
            " WHERE sid = ? AND status_rank < ?",
            (
                update.status,
                rank,
                update.error_code,
                update.error_message,
                tx.now,
                tx.seq,
                update.sid,
                rank,
            ),
        ).rowcount
    )


def _message_exists(tx: Tx, sid: str) -> bool:
    return tx.conn.execute("SELECT 1 FROM messages WHERE sid = ?", (sid,)).fetchone() is not None


def _insert_placeholder(tx: Tx, update: StatusUpdate) -> None:
    """A callback for a message sent elsewhere (the console, say) becomes an outbound row we can show."""
    if not update.to_addr:
        return
    ensure_contact(tx, update.to_addr)
    now = tx.now
    tx.conn.execute(
        "INSERT INTO messages (sid, direction, address, from_addr, to_addr,"
        " messaging_service_sid, status, status_rank, error_code, error_message, created_at,"
        " updated_at, read_by_agent_at, change_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            update.sid,
            Direction.OUTBOUND,
            update.to_addr,
            update.from_addr,
            update.to_addr,
            update.messaging_service_sid,
            update.status,
            status_rules.rank(update.status),
            update.error_code,
            update.error_message,
            now,
            now,
            now,
            tx.seq,
        ),
    )


@command
def mark_read(tx: Tx, address: str, agent: str | None = None) -> int:
    """The agent opened the conversation: its inbound messages are read (by anyone's count), and
    with `agent`, that agent's read mark moves to its latest message."""
    count = tx.conn.execute(
        "UPDATE messages SET read_by_agent_at = ?, change_seq = ?"
        " WHERE address = ? AND direction = 'in' AND read_by_agent_at IS NULL",
        (tx.now, tx.seq, address),
    ).rowcount
    if agent is not None:
        team_writes.mark_read_by(tx, address, agent)
    return count


@command
def save_draft(tx: Tx, address: str, body: str) -> None:
    """Keep the composer's unsent text for `address`; a blank one deletes the draft.

    Not in the change feed (no `change_seq` is set): a draft is typed often, and another agent's
    screen has nothing to redraw for it. The batch's sequence number still moves, as for any write.
    """
    if not body.strip():
        tx.conn.execute("DELETE FROM drafts WHERE address = ?", (address,))
        return
    tx.conn.execute(
        "INSERT INTO drafts (address, body, updated_at) VALUES (?, ?, ?) ON CONFLICT"
        " (address) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        (address, body, tx.now),
    )


@command
def add_hosted_file(tx: Tx, hosted: HostedFile) -> None:
    tx.conn.execute(
        "INSERT INTO media_files (id, path, filename, content_type, size_bytes, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (hosted.id, hosted.path, hosted.filename, hosted.content_type, hosted.size_bytes, tx.now),
    )


@command
def claim_media(tx: Tx, limit: int, lease_until: str) -> list[int]:
    """Lease up to `limit` due inbound media items to the downloader, counting the try.

    The lease is the next attempt time: after a crash the item simply falls due again.
    """
    rows = tx.conn.execute(
        "UPDATE media SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN ("
        " SELECT f.id FROM media f JOIN messages m ON m.id = f.message_id"
        " WHERE m.direction = 'in' AND f.local_path IS NULL AND f.gave_up = 0 AND f.removed_at IS NULL"
        " AND (f.next_attempt_at IS NULL OR f.next_attempt_at <= ?) ORDER BY f.id LIMIT ?) RETURNING id",
        (lease_until, tx.now, limit),
    ).fetchall()
    return sorted(int(row[0]) for row in rows)


@command
def record_media_downloaded(tx: Tx, media_id: int, local_path: str, size_bytes: int) -> None:
    tx.conn.execute(
        "UPDATE media SET local_path = ?, size_bytes = ?, fetched_at = ?, next_attempt_at = NULL,"
        " last_error = NULL WHERE id = ?",
        (local_path, size_bytes, tx.now, media_id),
    )
    _touch_message_of(tx, media_id)


@command
def record_media_failed(tx: Tx, media_id: int, error: str, retry_at: str | None) -> None:
    """Note why a try failed; without `retry_at`, give up, which the screen then shows."""
    tx.conn.execute(
        "UPDATE media SET last_error = ?, next_attempt_at = ?, gave_up = ? WHERE id = ?",
        (error, retry_at, retry_at is None, media_id),
    )
    if retry_at is None:
        _touch_message_of(tx, media_id)


@command
def record_media_removed(tx: Tx, media_ids: list[int], hosted_ids: list[str], reason: str) -> int:
    """Retention removed these files from disk: record it, with `reason`, at `tx.now`; how many were
    not recorded as removed before.

    An inbound item loses its `local_path` (its message changes, and shows `reason`); `removed_at`
    keeps the downloader away from it. A hosted file keeps its row, so its link answers "gone".
    """
    count = 0
    for media_id in media_ids:
        changed = tx.conn.execute(
            "UPDATE media SET local_path = NULL, removed_at = ?, removed_reason = ?, next_attempt_at = NULL"
            " WHERE id = ? AND removed_at IS NULL",
            (tx.now, reason, media_id),
        ).rowcount
        if changed:
            _touch_message_of(tx, media_id)
            count += 1
    for file_id in hosted_ids:
        count += tx.conn.execute(
            "UPDATE media_files SET removed_at = ?, removed_reason = ? WHERE id = ? AND removed_at IS NULL",
            (tx.now, reason, file_id),
        ).rowcount
    return count


def _touch_message_of(tx: Tx, media_id: int) -> None:
    """Put the message back in the change feed: one of its attachments changed."""
    tx.conn.execute(
        "UPDATE messages SET change_seq = ? WHERE id = (SELECT message_id FROM media WHERE id = ?)",
        (tx.seq, media_id),
    )


INCREMENTAL_VACUUM = 2
"""`PRAGMA auto_vacuum`'s value for a database that gives pages back on demand (new ones are made so)."""


@command
def vacuum_pages(tx: Tx, pages: int) -> int:
    """Give up to `pages` free pages back, in the batch's transaction (the file shrinks when the
    log is next checkpointed); how many free pages are left. Each page moved costs about 0.1 ms, so
    `pages` bounds how long the other writes of the batch wait."""
    (mode,) = tx.conn.execute("PRAGMA auto_vacuum").fetchone()
    if mode != INCREMENTAL_VACUUM:
        raise StoreError(
            "This database was created before wa-inbox gave space back online: "
            "run `wa-inbox db vacuum --full` once, with `wa-inbox serve` stopped."
        )
    for _ in range(pages):  # Python's sqlite3 steps a pragma once, and each step frees one page
        tx.conn.execute("PRAGMA incremental_vacuum(1)")
    (left,) = tx.conn.execute("PRAGMA freelist_count").fetchone()
    return int(left)
