"""The raw webhook log's bounded side: rejected requests kept as samples, and rows past their retention.

Accepted webhooks are written with their own ingest (`writes.log_webhook`), stored whole: Twilio signed
them and they are at most `max_body_bytes`. A rejection arrives here already cut to a sample by the
receiver (`receiver.rejections`), with the sizes of what came. Both writes are registered commands taking
`tx` first (see `tx`).
"""

from __future__ import annotations

from wa_inbox.store.codec import secret_header, to_json
from wa_inbox.store.tx import Tx, command
from wa_inbox.store.writes import LoggedRequest

PRUNE_BATCH = 1000
"""Rows deleted per transaction: other writes wait for one batch at a time, never for the whole job."""


@command
def log_rejection(tx: Tx, req: LoggedRequest, body_bytes: int | None, header_bytes: int | None) -> None:
    """Keep a rejected request, received at `tx.now`."""
    kind, path, verdict, reason, message_sid, body, headers = req
    kept = {k: v for k, v in headers.items() if not secret_header(k)}
    tx.conn.execute(
        "INSERT INTO webhook_log (received_at, kind, path, verdict, reason, message_sid, body, headers,"
        " body_bytes, header_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            tx.now,
            kind,
            path,
            verdict,
            reason,
            message_sid,
            body,
            to_json(kept),
            body_bytes,
            header_bytes,
        ),
    )


@command
def prune(tx: Tx, before: str, batch: int = PRUNE_BATCH) -> int:
    """Delete up to `batch` of the oldest rows, if they arrived before `before`; how many went.

    Oldest by arrival (the row id), so each batch reads only the rows it deletes and the first it
    keeps, however long the log; `received_at` has no index, which every webhook would pay for. The
    caller repeats while whole batches go.
    """
    return tx.conn.execute(
        "DELETE FROM webhook_log WHERE id IN (SELECT id FROM webhook_log ORDER BY id LIMIT ?)"
        " AND received_at < ?",
        (batch, before),
    ).rowcount
