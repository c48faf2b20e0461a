"""Media on PostgreSQL: attachments' rows, the downloader's leased claims, files hosted for Twilio, and
retention's listing and records.

Downloaders on several hosts claim at once: a claim picks its rows with `FOR UPDATE SKIP LOCKED` and
leases each until a time (`next_attempt_at`), so two claims never get one item, and an item whose
downloader died falls due again when its lease ends. A change to an item puts its message back in the
change feed: updating the message row makes the schema's trigger stamp it with this transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain.models import HostedFile, MediaDownload, MediaFile, MediaFileKind
from wa_inbox.store.postgres.tx import Tx

MediaItem = tuple[int, str, str, int | None]
"""(position, url, content type, size) of one attachment, inbound or outbound."""


async def insert_media(tx: Tx, message_id: int, items: Sequence[MediaItem]) -> None:
    """The attachments of a message just inserted; an inbound one's are due for download at once."""
    if not items:
        return
    async with tx.conn.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO media (message_id, position, twilio_url, content_type, size_bytes)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(message_id, *item) for item in items],
        )


async def add_hosted_file(tx: Tx, hosted: HostedFile) -> None:
    """Record a file copied for Twilio to fetch; an id recorded before breaks the primary key."""
    await tx.conn.execute(
        "INSERT INTO media_files (id, path, filename, content_type, size_bytes, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (hosted.id, hosted.path, hosted.filename, hosted.content_type, hosted.size_bytes, tx.now),
    )


async def get_hosted_file(conn: AsyncConnection[Any], file_id: str) -> HostedFile | None:
    """Also a removed one, with why, so that its link can answer "gone"."""
    cursor = await conn.execute(
        "SELECT id, path, filename, content_type, size_bytes, removed_reason FROM media_files WHERE id = %s",
        (file_id,),
    )
    row = await cursor.fetchone()
    return HostedFile(*row) if row else None


async def claim_media(tx: Tx, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due inbound media items to the caller until `tx.now + lease`, oldest first,
    counting the try; their ids.

    The lease is the next attempt time: after a crash the item simply falls due again. Rows another
    claim is taking are skipped; a row locked here is judged again as committed (still due?)."""
    cursor = await tx.conn.execute(
        "WITH due AS (SELECT f.id FROM media f JOIN messages m ON m.id = f.message_id"
        " WHERE m.direction = 'in' AND f.local_path IS NULL AND NOT f.gave_up AND f.removed_at IS NULL"
        " AND (f.next_attempt_at IS NULL OR f.next_attempt_at <= %s)"
        " ORDER BY f.id LIMIT %s FOR UPDATE OF f SKIP LOCKED)"
        " UPDATE media SET attempts = media.attempts + 1, next_attempt_at = %s"
        " FROM due WHERE media.id = due.id RETURNING media.id",
        (tx.now, limit, tx.now + lease),
    )
    return sorted(int(row[0]) for row in await cursor.fetchall())


async def media_downloads(conn: AsyncConnection[Any], ids: Sequence[int]) -> list[MediaDownload]:
    """The claimed items `ids` as the downloader needs them, oldest first."""
    cursor = await conn.execute(
        "SELECT f.id, m.sid, f.position, f.twilio_url, f.content_type, f.attempts FROM media f"
        " JOIN messages m ON m.id = f.message_id WHERE f.id = ANY(%s) ORDER BY f.id",
        (list(ids),),
    )
    return [MediaDownload(*row) for row in await cursor.fetchall()]


async def record_media_downloaded(tx: Tx, media_id: int, local_path: str, size_bytes: int) -> None:
    """The item is on disk at `local_path`: its message shows it."""
    await tx.conn.execute(
        "UPDATE media SET local_path = %s, size_bytes = %s, fetched_at = %s, next_attempt_at = NULL,"
        " last_error = NULL WHERE id = %s",
        (local_path, size_bytes, tx.now, media_id),
    )
    await _touch_messages_of(tx, [media_id])


async def record_media_failed(tx: Tx, media_id: int, error: str, retry_after: timedelta | None) -> None:
    """Note why a try failed: tried again after `retry_after`, or, when None, given up, which the
    message then shows (only then is it a change of the message)."""
    retry_at = tx.now + retry_after if retry_after is not None else None
    await tx.conn.execute(
        "UPDATE media SET last_error = %s, next_attempt_at = %s, gave_up = %s WHERE id = %s",
        (error, retry_at, retry_at is None, media_id),
    )
    if retry_at is None:
        await _touch_messages_of(tx, [media_id])


async def expired_media(
    conn: AsyncConnection[Any], before: datetime, limit: int, after: MediaFile | None
) -> list[MediaFile]:
    """Files on disk stored before `before`, by (stored time, kind, id), after the cursor `after`.

    Each kind reads at most `limit` rows along its partial index (`media_on_disk`, by download time
    and id; `media_files_on_disk`, by attach time and id) from the cursor on, and the two are merged:
    a page reads at most twice `limit` rows, however many files have expired. "hosted" sorts before
    "inbound", so after an inbound cursor every hosted file of the same instant was listed already.
    Inbound ids sort as numbers (`num`), hosted ids as text."""
    inbound_after, hosted_after = "TRUE", "TRUE"
    params: dict[str, Any] = {"before": before, "limit": limit}
    if after is not None:
        params["since"] = after.stored_at
        if after.kind is MediaFileKind.INBOUND:
            inbound_after, hosted_after = "(fetched_at, id) > (%(since)s, %(key)s)", "created_at > %(since)s"
            params["key"] = int(after.key)
        else:
            inbound_after, hosted_after = "fetched_at >= %(since)s", "(created_at, id) > (%(since)s, %(key)s)"
            params["key"] = after.key
    cursor = await conn.execute(
        "(SELECT 'inbound' AS kind, id AS num, id::text AS key, local_path AS path, fetched_at AS stored_at"
        "  FROM media WHERE local_path IS NOT NULL AND fetched_at < %(before)s"
        f"  AND {inbound_after} ORDER BY fetched_at, id LIMIT %(limit)s)"
        " UNION ALL"
        " (SELECT 'hosted', 0, id, path, created_at FROM media_files"
        f"  WHERE removed_at IS NULL AND created_at < %(before)s AND {hosted_after}"
        "  ORDER BY created_at, id LIMIT %(limit)s)"
        " ORDER BY stored_at, kind, num, key LIMIT %(limit)s",
        params,
    )
    return [
        MediaFile(MediaFileKind(kind), key, path, stored_at)
        for kind, _num, key, path, stored_at in await cursor.fetchall()
    ]


async def record_media_removed(tx: Tx, files: Sequence[MediaFile], reason: str) -> int:
    """Retention removed these files from disk: record it, with `reason`, at `tx.now`; how many were
    not recorded as removed before (a second retention run on another host finds them recorded).

    An inbound item loses its `local_path` (its message changes, and shows `reason`); `removed_at`
    keeps the downloader away from it. A hosted file keeps its row, so its link answers "gone"."""
    inbound = [int(f.key) for f in files if f.kind is MediaFileKind.INBOUND]
    hosted = [f.key for f in files if f.kind is MediaFileKind.HOSTED]
    return await _remove_inbound(tx, inbound, reason) + await _remove_hosted(tx, hosted, reason)


async def _remove_inbound(tx: Tx, media_ids: list[int], reason: str) -> int:
    if not media_ids:
        return 0
    cursor = await tx.conn.execute(
        "UPDATE media SET local_path = NULL, removed_at = %s, removed_reason = %s, next_attempt_at = NULL"
        " WHERE id = ANY(%s) AND removed_at IS NULL RETURNING id",
        (tx.now, reason, media_ids),
    )
    removed = [int(row[0]) for row in await cursor.fetchall()]
    await _touch_messages_of(tx, removed)
    return len(removed)


async def _remove_hosted(tx: Tx, file_ids: list[str], reason: str) -> int:
    if not file_ids:
        return 0
    cursor = await tx.conn.execute(
        "UPDATE media_files SET removed_at = %s, removed_reason = %s"
        " WHERE id = ANY(%s) AND removed_at IS NULL",
        (tx.now, reason, file_ids),
    )
    return cursor.rowcount


async def _touch_messages_of(tx: Tx, media_ids: Sequence[int]) -> None:
    """Put the messages of these items back in the change feed: one of their attachments changed.
    Any update of a message row is stamped with this transaction by the schema's trigger."""
    if media_ids:
        await tx.conn.execute(
            "UPDATE messages SET change_seq = change_seq"
            " WHERE id IN (SELECT message_id FROM media WHERE id = ANY(%s))",
            (list(media_ids),),
        )
