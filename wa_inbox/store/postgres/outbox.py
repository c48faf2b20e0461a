"""The outbox on PostgreSQL: queueing drafts, claiming them for the sender, recording what Twilio said;
contacts' opt-out state; the composer's unsent drafts.

Senders on several hosts may claim at once. A claim picks its rows with `FOR UPDATE SKIP LOCKED`, so two
claims never get one message (each passes over the rows the other is taking), and it is fenced by the
sender lease: it holds a share lock on the lease row while it claims, so the lease cannot change hands
between the check and the claim, and a claim made under a lease that has ended is impossible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.models import OutboundJob
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store.codec import from_json, to_json
from wa_inbox.store.postgres import lease, media
from wa_inbox.store.postgres.tx import Tx
from wa_inbox.store.types import OutboxDepth

_JOB_COLUMNS = """id, to_addr, body, content_sid, content_variables, opt_confirmation, created_at,
    sending_started_at, attempts"""


async def ensure_contact(tx: Tx, address: str) -> None:
    """The contact exists from now on (its conversation too, by the schema's trigger). A concurrent
    first message of the same customer waits for the other insert and then does nothing."""
    await tx.conn.execute(
        "INSERT INTO contacts (address, created_at) VALUES (%s, %s) ON CONFLICT (address) DO NOTHING",
        (address, tx.now),
    )


async def lock_sid(tx: Tx, sid: str) -> None:
    """Take turns with every other write about message `sid` until this transaction ends.

    A status callback may arrive while the sender records Twilio's acceptance of the same SID: each
    would otherwise miss the other's uncommitted row (two placeholders, or an acceptance that collides
    with a placeholder it could not see). After the lock, this transaction's next statements see
    whatever the other committed. Unrelated SIDs sharing a hash merely wait a moment."""
    await tx.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (sid,))


async def queue_outbound(
    tx: Tx, draft: Draft, idempotency_key: str, opt_confirmation: bool = False
) -> int | None:
    """Queue a message in local state `pending` for the sender, already read by the agent; its id, or
    None if that key was queued before (the unique key decides, whichever replica asks first)."""
    await ensure_contact(tx, draft.address)
    cursor = await tx.conn.execute(
        "INSERT INTO messages (idempotency_key, direction, address, to_addr, body, num_media,"
        " content_sid, content_variables, status, status_rank, created_at, updated_at,"
        " read_by_agent_at, opt_confirmation, author)"
        " VALUES (%s, 'out', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
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
            tx.now,
            tx.now,
            tx.now,
            opt_confirmation,
            draft.author,
        ),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    message_id = int(row[0])
    items = [(i, m.url, m.content_type or "", m.size_bytes) for i, m in enumerate(draft.media)]
    await media.insert_media(tx, message_id, items)
    return message_id


async def claim_unsent(
    tx: Tx, limit: int, message_id: int | None, fence: tuple[str, int] | None
) -> list[int]:
    """Move up to `limit` pending messages (or just `message_id`), oldest first, to `sending` before
    any request leaves; their ids.

    `SKIP LOCKED` passes over rows another claim is taking; a row it does lock is judged again as
    committed (still `pending`?), so no message is claimed twice. With `fence` (owner, term), nothing
    is claimed unless that is the live sender lease, held still by a share lock until this commits;
    each claim records it. Without, the claim records no owner, and any holder's
    `take_over_sending` takes it as left behind."""
    if fence is not None and not await lease.holds(tx, *fence):
        return []
    owner, term = fence if fence is not None else (None, None)
    cursor = await tx.conn.execute(
        "WITH picked AS (SELECT id FROM messages WHERE status = 'pending'"
        " AND (%s::bigint IS NULL OR id = %s::bigint) ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)"
        " UPDATE messages m SET status = 'sending', sending_started_at = %s, attempts = m.attempts + 1,"
        " sending_owner = %s, sending_term = %s FROM picked WHERE m.id = picked.id RETURNING m.id",
        (message_id, message_id, limit, tx.now, owner, term),
    )
    return sorted(int(row[0]) for row in await cursor.fetchall())


async def take_over_sending(tx: Tx, owner: str, term: int) -> list[int]:
    """For the live holder (`owner`, `term`): the messages left `sending` under an ended lease, now its
    own; their ids.

    Only the holder claims, so a `sending` row of another term (or of none) was claimed by a sender
    whose lease has ended since; its request may or may not have reached Twilio. A row that sender is
    still writing (its acceptance landing late) is waited for, then judged as committed: accepted,
    it is no longer `sending` and stays out. Nothing is taken when the caller is not the live holder."""
    if not await lease.holds(tx, owner, term):
        return []
    cursor = await tx.conn.execute(
        "UPDATE messages SET sending_owner = %s, sending_term = %s"
        " WHERE status = 'sending' AND sending_term IS DISTINCT FROM %s RETURNING id",
        (owner, term, term),
    )
    return sorted(int(row[0]) for row in await cursor.fetchall())


async def outbound_jobs(conn: AsyncConnection[Any], ids: Sequence[int]) -> list[OutboundJob]:
    """The claimed messages `ids` as the sender needs them, oldest first, with their media's URLs."""
    cursor = await conn.execute(
        f"SELECT {_JOB_COLUMNS} FROM messages WHERE id = ANY(%s) ORDER BY id", (list(ids),)
    )
    rows = await cursor.fetchall()
    urls: dict[int, list[str]] = defaultdict(list)
    cursor = await conn.execute(
        "SELECT message_id, twilio_url FROM media WHERE message_id = ANY(%s) ORDER BY message_id, position",
        (list(ids),),
    )
    for message_id, url in await cursor.fetchall():
        urls[message_id].append(url)
    return [_job(row, tuple(urls.get(row[0], ()))) for row in rows]


def _job(row: Sequence[Any], media_urls: tuple[str, ...]) -> OutboundJob:
    return OutboundJob(
        id=row[0],
        address=row[1],
        body=row[2],
        media_urls=media_urls,
        content_sid=row[3],
        content_variables=from_json(row[4]),
        opt_confirmation=row[5],
        created_at=row[6],
        sending_started_at=row[7],
        attempts=row[8],
    )


async def record_accepted(
    tx: Tx, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
) -> None:
    """Give the row Twilio's SID. Callbacks may have beaten the response here and left a placeholder
    under that SID: it is folded in (its status, if further along, and its error kept), after taking
    turns with those callbacks (`lock_sid`) so that none of them is still writing one."""
    await lock_sid(tx, sid)
    rank = status_rules.rank(status)
    cursor = await tx.conn.execute(
        "DELETE FROM messages WHERE sid = %s AND idempotency_key IS NULL"
        " RETURNING status, status_rank, error_code, error_message",
        (sid,),
    )
    early = await cursor.fetchone()
    if early is not None and early[1] > rank:
        status, rank = early[0], early[1]
    await tx.conn.execute(
        "UPDATE messages SET sid = %s, status = %s, status_rank = %s, from_addr = COALESCE(%s, from_addr),"
        " messaging_service_sid = %s, error_code = COALESCE(%s, error_code),"
        " error_message = COALESCE(%s, error_message), updated_at = %s WHERE id = %s",
        (
            sid,
            status,
            rank,
            from_addr,
            messaging_service_sid,
            early[2] if early else None,
            early[3] if early else None,
            tx.now,
            message_id,
        ),
    )


async def record_failed(tx: Tx, message_id: int, error_code: int | None, error_message: str) -> None:
    """The message will not be sent: `failed`, with the error; nothing for an unknown id."""
    await tx.conn.execute(
        "UPDATE messages SET status = 'failed', status_rank = %s, error_code = %s, error_message = %s,"
        " updated_at = %s WHERE id = %s",
        (status_rules.rank("failed"), error_code, error_message, tx.now, message_id),
    )


async def claimed_sids(conn: AsyncConnection[Any], sids: Sequence[str]) -> set[str]:
    """Which of `sids` belong to a message we queued (placeholders made by callbacks have no key)."""
    cursor = await conn.execute(
        "SELECT sid FROM messages WHERE sid = ANY(%s) AND idempotency_key IS NOT NULL", (list(sids),)
    )
    return {row[0] for row in await cursor.fetchall()}


async def set_opt_state(
    tx: Tx, address: str, action: OptAction, source: str, message_sid: str | None = None
) -> bool:
    """Flip the opt-out flag with an audit row, making the contact first if it is new; False when the
    contact was already in that state.

    The state is judged in the UPDATE's WHERE: of two concurrent STOPs, the second waits for the
    first's row lock, finds the contact opted out, and writes nothing, so the audit has one row.
    Opting out records when and why; opting in clears both."""
    await ensure_contact(tx, address)
    opted_out = action is OptAction.STOP
    cursor = await tx.conn.execute(
        "UPDATE contacts SET opted_out = %s, opted_out_at = %s, opted_out_source = %s"
        " WHERE address = %s AND opted_out <> %s",
        (opted_out, tx.now if opted_out else None, source if opted_out else None, address, opted_out),
    )
    if not cursor.rowcount:
        return False
    await tx.conn.execute(
        "INSERT INTO opt_events (address, action, source, message_sid, at) VALUES (%s, %s, %s, %s, %s)",
        (address, str(action), source, message_sid, tx.now),
    )
    return True


async def save_draft(tx: Tx, address: str, body: str) -> None:
    """Keep the composer's unsent text for `address`; a blank one deletes the draft. The contact must
    exist (the foreign key refuses others). Not in the change feed: `drafts` has no `change_seq`."""
    if not body.strip():
        await tx.conn.execute("DELETE FROM drafts WHERE address = %s", (address,))
        return
    await tx.conn.execute(
        "INSERT INTO drafts (address, body, updated_at) VALUES (%s, %s, %s) ON CONFLICT (address)"
        " DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        (address, body, tx.now),
    )


async def get_draft(conn: AsyncConnection[Any], address: str) -> str:
    cursor = await conn.execute("SELECT body FROM drafts WHERE address = %s", (address,))
    row = await cursor.fetchone()
    return str(row[0]) if row else ""


async def count_drafts(conn: AsyncConnection[Any]) -> int:
    cursor = await conn.execute("SELECT COUNT(*) FROM drafts")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def outbox_depth(conn: AsyncConnection[Any]) -> OutboxDepth:
    """Both counts and the oldest pending one from the `messages_unsent` partial index: it holds only
    the unsent rows, so this costs the queue's length, never the history's."""
    cursor = await conn.execute(
        "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'sending'),"
        " min(created_at) FILTER (WHERE status = 'pending')"
        " FROM messages WHERE status IN ('pending', 'sending')"
    )
    row = await cursor.fetchone()
    assert row is not None
    return OutboxDepth(int(row[0]), int(row[1]), row[2])
