"""Apply `schema.MIGRATIONS` to a PostgreSQL database: under an advisory lock, each step in its own
transaction, recorded in `schema_migrations`; a database a newer wa-inbox migrated is refused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.store.errors import NewerSchema
from wa_inbox.store.postgres.schema import MIGRATION_LOCK, MIGRATIONS

Report = Callable[[str], None]

_RECORD_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def applied(conn: AsyncConnection[Any]) -> list[str]:
    """The steps recorded in the database ([] for a new, empty one)."""
    cursor = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    row = await cursor.fetchone()
    if not row or not row[0]:
        return []
    cursor = await conn.execute("SELECT name FROM schema_migrations ORDER BY name")
    return [name for (name,) in await cursor.fetchall()]


async def pending(
    conn: AsyncConnection[Any], where: str, steps: Sequence[tuple[str, str]] = MIGRATIONS
) -> list[str]:
    """The steps this release would apply; `NewerSchema` when the database is ahead of it."""
    done = set(await applied(conn))
    unknown = sorted(done - {name for name, _ in steps})
    if unknown:
        raise NewerSchema.at(where, unknown[-1])
    return [name for name, _ in steps if name not in done]


async def migrate(
    conn: AsyncConnection[Any],
    where: str,
    report: Report | None = None,
    steps: Sequence[tuple[str, str]] = MIGRATIONS,
) -> list[str]:
    """Apply what is pending of `steps` (a release's; tests pass an older release's), once even when
    several processes start together; the steps applied.

    `conn` must be in autocommit mode: each step is its own transaction, so a step stopped midway
    leaves the schema of the step before."""
    await conn.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        await conn.execute(_RECORD_TABLE)
        todo = await pending(conn, where, steps)
        scripts = dict(steps)
        for name in todo:
            if report is not None:
                report(f"applying {name}")
            async with conn.transaction():
                await conn.execute(scripts[name])  # no parameters: several statements are allowed
                await conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", [name])
        return todo
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
