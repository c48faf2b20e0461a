"""The writes the store submits that are not a single step of `writes` taking the change number
second; each runs in the writer process as `command(conn, seq, *args)`, as those steps do.

A command and its arguments cross to that process pickled, once per write: the two webhook commands
take plain tuples (`request`, `status_fields`), which pickle several times faster than the domain's
dataclasses, datetimes and enums; the rest are rare enough to take the domain objects as they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from wa_inbox.domain.models import HostedFile, InboundMessage, StatusUpdate, Verdict, WebhookRecord
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store import templates, writes
from wa_inbox.store.writes import LoggedRequest


def request(record: WebhookRecord) -> LoggedRequest:
    return (
        str(record.kind),
        record.path,
        str(record.verdict),
        record.reason,
        record.message_sid,
        record.body,
        dict(record.headers),
    )


def status_fields(update: StatusUpdate) -> tuple[Any, ...]:
    return (
        update.sid,
        update.status,
        update.error_code,
        update.error_message,
        update.from_addr,
        update.to_addr,
        update.messaging_service_sid,
    )


def ingest_status(
    conn: sqlite3.Connection, seq: int, fields: tuple[Any, ...], req: LoggedRequest, now: str
) -> bool:
    new = writes.apply_status(conn, StatusUpdate(*fields), now, seq)
    writes.log_webhook(conn, req, now, None if new else Verdict.DUPLICATE)
    return new


def ingest_inbound(
    conn: sqlite3.Connection,
    seq: int,
    msg: InboundMessage,
    req: LoggedRequest,
    now: str,
    opt_action: OptAction | None,
    confirmation: str | None,
) -> bool:
    if writes.insert_inbound(conn, msg, req[5], now, seq) is None:
        writes.log_webhook(conn, req, now, Verdict.DUPLICATE)
        return False
    writes.log_webhook(conn, req, now)
    if opt_action is None:
        return True
    source = f"keyword {msg.body.strip()!r}"
    changed = writes.set_opt_state(conn, msg.from_addr, opt_action, source, msg.sid, now, seq)
    if changed and confirmation:
        draft = Draft(to=msg.from_addr, body=confirmation)
        key = f"opt-confirmation:{msg.sid}"
        writes.queue_outbound(conn, seq, draft, key, now, opt_confirmation=opt_action is OptAction.STOP)
    return True


def nothing(conn: sqlite3.Connection, seq: int) -> None:
    """Changes nothing, yet its batch commits: the health check's proof that commits go through."""


def set_opt_state(
    conn: sqlite3.Connection, seq: int, address: str, action: OptAction, source: str, now: str
) -> bool:
    writes.ensure_contact(conn, address, now)
    return writes.set_opt_state(conn, address, action, source, None, now, seq)


def add_hosted_file(conn: sqlite3.Connection, seq: int, hosted: HostedFile, now: str) -> None:
    writes.add_hosted_file(conn, hosted, now)


def claim_media(conn: sqlite3.Connection, seq: int, limit: int, now: str, lease_until: str) -> list[int]:
    return writes.claim_media(conn, limit, now, lease_until)


def replace_templates(conn: sqlite3.Connection, seq: int, synced: Sequence[TemplateInfo], now: str) -> None:
    templates.replace_all(conn, synced, now)
