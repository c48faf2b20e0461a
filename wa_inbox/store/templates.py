"""The `templates` table: the account's Content API templates as last synced, and template send errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store.codec import from_json, parse_ts, to_json
from wa_inbox.store.tx import Tx, command

_COLUMNS = """sid, friendly_name, language, types, kind, body, variables, actions, media, approval,
    category, rejection_reason, synced_at"""


@command
def replace_all(tx: Tx, templates: Sequence[TemplateInfo]) -> None:
    """The whole set at once, synced at `tx.now`: a template deleted at Twilio disappears here too."""
    tx.conn.execute("DELETE FROM templates")
    tx.conn.executemany(
        f"INSERT INTO templates ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_row(template, tx.now) for template in templates],
    )


async def list_all(db: aiosqlite.Connection) -> list[TemplateInfo]:
    """By name, then language: the order the picker and `templates list` show."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM templates ORDER BY friendly_name, language, sid"
    )
    return [_template(row) for row in rows]


async def send_errors(db: aiosqlite.Connection, after_seq: int, upto_seq: int) -> list[int]:
    """Error codes of template messages Twilio accepted and later failed, written in (after, upto]."""
    failures = sorted(status_rules.FAILED)
    rows = await db.execute_fetchall(
        "SELECT DISTINCT error_code FROM messages WHERE change_seq > ? AND change_seq <= ?"
        " AND content_sid IS NOT NULL AND sid IS NOT NULL AND error_code IS NOT NULL"
        f" AND status IN ({','.join('?' * len(failures))}) ORDER BY error_code",
        [after_seq, upto_seq, *failures],
    )
    return [int(row[0]) for row in rows]


def _row(t: TemplateInfo, now: str) -> tuple[object, ...]:
    return (
        t.sid,
        t.name,
        t.language,
        to_json(t.types),
        t.kind,
        t.body,
        to_json(t.variables),
        to_json(t.actions),
        to_json(t.media),
        t.approval,
        t.category,
        t.rejection_reason,
        now,
    )


def _template(row: sqlite3.Row) -> TemplateInfo:
    return TemplateInfo(
        sid=row[0],
        name=row[1],
        language=row[2],
        types=from_json(row[3]),
        kind=row[4],
        body=row[5],
        variables=from_json(row[6]),
        actions=tuple(from_json(row[7])),
        media=tuple(from_json(row[8])),
        approval=row[9],
        category=row[10],
        rejection_reason=row[11],
        synced_at=parse_ts(row[12]),
    )
