"""How big the PostgreSQL database is (`wa-inbox db stats`), and vacuuming it (`db vacuum`).

The numbers mean what SQLite's mean where PostgreSQL can tell them cheaply and to an ordinary role:

- `rows`: exact `count(*)` of each table of `types.STATS_TABLES`, as SQLite's (a scan of each table,
  along an index where the planner finds one cheaper).
- `bytes_on_disk`: `pg_database_size`, everything the database holds (tables, indexes, TOAST).
- `log_bytes`: 0. The write-ahead log belongs to the whole server (every database on it), checkpoints
  recycle it on their own, and listing it (`pg_ls_waldir`) needs the `pg_monitor` role an inbox's
  role should not have: no number here would be this database's.
- `media_bytes`: as SQLite counts it: downloaded media plus the files hosted for Twilio to fetch.
- `free_pages`: 0, and `page_size` the server's block size. What a `VACUUM FULL` would give back is
  known only to extensions (`pg_freespacemap`, `pgstattuple`) a server need not have; and free space
  inside a table is PostgreSQL's to reuse (autovacuum and `vacuum_step`'s plain VACUUM hand it to new
  rows), not pages wa-inbox gives back step by step.
- `vacuums_online`: True. A plain VACUUM never blocks writes; `VACUUM FULL` (`vacuum_full`) does, and
  is never needed first.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.store.postgres import connection
from wa_inbox.store.types import STATS_TABLES, StoreStats


async def stats(conn: AsyncConnection[Any]) -> StoreStats:
    return StoreStats(
        rows=await row_counts(conn),
        bytes_on_disk=await _one(conn, "SELECT pg_database_size(current_database())"),
        log_bytes=0,
        media_bytes=await media_bytes(conn),
        free_pages=0,
        page_size=await _one(conn, "SELECT current_setting('block_size')::int"),
        vacuums_online=True,
    )


async def row_counts(conn: AsyncConnection[Any]) -> dict[str, int]:
    """Exact counts, in one statement (one snapshot: the counts agree with one another), in the
    order of `STATS_TABLES`."""
    counts = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(table), sql.Identifier(table))
        for table in STATS_TABLES
    )
    cursor = await conn.execute(counts)
    found = {table: int(count) for table, count in await cursor.fetchall()}
    return {table: found[table] for table in STATS_TABLES}


async def media_bytes(conn: AsyncConnection[Any]) -> int:
    """Downloaded media plus files hosted for Twilio to fetch (SQLite's sum, hosted files removed by
    retention included, so both backends report the same)."""
    return await _one(
        conn,
        "SELECT (SELECT COALESCE(sum(size_bytes), 0) FROM media WHERE local_path IS NOT NULL)"
        " + (SELECT COALESCE(sum(size_bytes), 0) FROM media_files)",
    )


async def _one(conn: AsyncConnection[Any], query: str) -> int:
    cursor = await conn.execute(query)
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def vacuum(url: DatabaseUrl, full: bool) -> None:
    """`VACUUM` (online: dead rows' space becomes reusable, empty pages at a table's end go back to
    the file system) or `VACUUM FULL` (every table rewritten compactly, each locked while it is),
    on a connection of its own: no transaction may surround a VACUUM, and the pool's connections
    are for the store's reads and writes. Without the session's statement timeout: a year's
    `VACUUM FULL` may run longer than any statement should."""
    conn = await connection.connect(url)
    try:
        await conn.execute("SET statement_timeout = 0")
        await conn.execute("VACUUM FULL" if full else "VACUUM")
    finally:
        await conn.close()
