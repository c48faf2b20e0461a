"""The `templates` table on PostgreSQL: the account's Content API templates as last synced, and
template send errors. The JSON fields are text, as in SQLite (`codec`), so both backends store them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store.codec import from_json, to_json
from wa_inbox.store.postgres.tx import Tx

_COLUMNS = """sid, friendly_name, language, types, kind, body, variables, actions, media, approval,
    category, rejection_reason, synced_at"""


async def replace_all(tx: Tx, templates: Sequence[TemplateInfo]) -> None:
    """The whole set at once, synced at `tx.now`: a template deleted at Twilio disappears here too.

    One sync at a time (`EXCLUSIVE` blocks other writers of the table, never its readers): two
    replicas syncing at once would otherwise each insert rows the other's delete could not see, and
    one would fail on a duplicate SID. After the lock, the delete sees every committed row."""
    await tx.conn.execute("LOCK TABLE templates IN EXCLUSIVE MODE")
    await tx.conn.execute("DELETE FROM templates")
    if not templates:
        return
    async with tx.conn.cursor() as cursor:
        await cursor.executemany(
            f"INSERT INTO templates ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [_row(template, tx.now) for template in templates],
        )


async def list_all(conn: AsyncConnection[Any]) -> list[TemplateInfo]:
    """By name, then language: the order the picker and `templates list` show. In byte order
    (`COLLATE "C"`), as SQLite sorts, whatever the server's locale."""
    cursor = await conn.execute(
        f'SELECT {_COLUMNS} FROM templates ORDER BY friendly_name COLLATE "C", language COLLATE "C", sid'
    )
    return [_template(row) for row in await cursor.fetchall()]


async def send_errors(conn: AsyncConnection[Any], after_seq: int, upto_seq: int) -> list[int]:
    """Error codes, ascending, of template messages Twilio accepted and later failed, written by
    transactions numbered in (after, upto]."""
    cursor = await conn.execute(
        "SELECT DISTINCT error_code FROM messages WHERE change_seq > %s AND change_seq <= %s"
        " AND content_sid IS NOT NULL AND sid IS NOT NULL AND error_code IS NOT NULL"
        " AND status = ANY(%s) ORDER BY error_code",
        (after_seq, upto_seq, sorted(status_rules.FAILED)),
    )
    return [int(row[0]) for row in await cursor.fetchall()]


def _row(t: TemplateInfo, now: datetime) -> tuple[object, ...]:
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


def _template(row: Sequence[Any]) -> TemplateInfo:
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
        synced_at=row[12],
    )
