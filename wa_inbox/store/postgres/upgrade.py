"""`upgrade_in_place` and `pending_steps` for PostgreSQL: the migrations a store would apply on opening,
applied now, or only listed."""

from __future__ import annotations

import asyncio

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.store.postgres import connection, migrations


def upgrade_database(url: DatabaseUrl, report: migrations.Report) -> list[str]:
    """Apply the pending steps (each its own transaction, under the migration lock); the steps applied."""
    return asyncio.run(_upgrade(url, report))


async def _upgrade(url: DatabaseUrl, report: migrations.Report) -> list[str]:
    conn = await connection.connect(url)
    try:
        return await migrations.migrate(conn, str(url), report)
    finally:
        await conn.close()


def pending_in_database(url: DatabaseUrl) -> list[str]:
    """The steps the database lacks, read without migrating; `NewerSchema` when it is ahead."""
    return asyncio.run(_pending(url))


async def _pending(url: DatabaseUrl) -> list[str]:
    conn = await connection.connect(url)
    try:
        return await migrations.pending(conn, str(url))
    finally:
        await conn.close()
