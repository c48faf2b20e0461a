"""Connecting to PostgreSQL: the pool every store uses, and errors said in one sentence without secrets."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.store.errors import StoreError

POOL_SIZE = 10
"""Connections per store: the receiver's concurrent commits, the sender's claims, the feed's reads."""

CONNECT_TIMEOUT_SECONDS = 10

SESSION = "-c TimeZone=UTC -c statement_timeout=60000"
"""Every session in UTC (times come back as aware UTC datetimes); no statement runs away for ever."""


async def open_pool(url: DatabaseUrl) -> AsyncConnectionPool[Any]:
    """A pool with one connection checked at once: an unreachable server is one sentence now, not a
    hang or a stack of retries later."""
    await _check_reachable(url)
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url.conninfo,
        min_size=1,
        max_size=POOL_SIZE,
        kwargs=connect_kwargs(),
        open=False,
        name="wa-inbox",
    )
    await pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
    return pool


def connect_kwargs() -> dict[str, Any]:
    return {"autocommit": True, "options": SESSION, "connect_timeout": CONNECT_TIMEOUT_SECONDS}


async def connect(url: DatabaseUrl) -> psycopg.AsyncConnection[Any]:
    """One connection outside the pool (the feed's LISTEN, a VACUUM), with the pool's settings."""
    try:
        return await psycopg.AsyncConnection.connect(url.conninfo, **connect_kwargs())
    except psycopg.Error as error:
        raise StoreError(unreachable(url, error)) from None


async def _check_reachable(url: DatabaseUrl) -> None:
    conn = await connect(url)
    await conn.close()


def unreachable(url: DatabaseUrl, error: BaseException) -> str:
    return (
        f"The database {url} cannot be reached ({describe(error)}): check WA_INBOX_DB (or --db) "
        "and that PostgreSQL is running."
    )


def describe(error: BaseException) -> str:
    """psycopg's message, first line only (its details can run to many lines)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
