"""The PostgreSQL write convention: a write step is `async def step(tx: Tx, *args)`, run in one transaction.

As in SQLite (`store/tx.py`), `tx` is a write's whole context: the connection inside the transaction and
the write's time from the store's clock. There is no change number to pass: the schema's triggers stamp
every row the change feed reports with the writing transaction's id (`schema.py`).

`run` retries a transaction PostgreSQL chose to abort (a deadlock, a serialization failure): with several
replicas writing the same conversation at once, one of two may be asked to try again, and nothing of it
was written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from psycopg import AsyncConnection, errors
from psycopg_pool import AsyncConnectionPool

P = ParamSpec("P")
T = TypeVar("T")

RETRIES = 5
"""How often a transaction aborted by PostgreSQL (deadlock, serialization) is tried again."""


@dataclass(frozen=True, slots=True)
class Tx:
    """One write's context: its transaction's connection and its time."""

    conn: AsyncConnection[Any]
    now: datetime


async def run(
    pool: AsyncConnectionPool[Any],
    now: datetime,
    step: Callable[Concatenate[Tx, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """`step(Tx(conn, now), *args)` in one committed transaction; its result once the commit is durable."""
    for attempt in range(RETRIES):
        try:
            async with pool.connection() as conn, conn.transaction():
                return await step(Tx(conn, now), *args, **kwargs)
        except (errors.DeadlockDetected, errors.SerializationFailure):
            if attempt == RETRIES - 1:
                raise
            await asyncio.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")
