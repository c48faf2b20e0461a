"""The store's backends: every contract test (`test_contract_*.py`) runs once per entry of `BACKENDS`.

A backend is a factory that, given the test's temporary directory, makes a fresh, empty database and
returns a `Backend` for it: how to open a store on that database (as often as a test likes: two
stores on one database are two processes sharing it), the exception its constraint violations raise,
and `peek`, a read of the stored rows with plain SQL for the few promises the protocol cannot show
(which lease a claim was made under, which raw webhook rows a prune left). A second implementation
(PostgreSQL) joins the suite by adding one entry here; nothing in the contract files changes.

Tests about SQLite itself (its files, pragmas, query plans, migrations, writer process) live in
`test_sqlite_*.py` and open `SqliteStore` directly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wa_inbox.domain.clock import Clock, utc_now
from wa_inbox.store import Store, StoreConflict, open_store


@dataclass(frozen=True)
class Backend:
    """One fresh database of one implementation."""

    name: str
    open_store: Callable[[Clock], Awaitable[Store]]
    """A new store on this test's database, with `clock` as its "now"."""
    integrity_error: type[Exception]
    """What a write that breaks a constraint (a draft for an unknown contact) raises."""
    peek: Callable[[str, Sequence[object]], Awaitable[list[tuple[Any, ...]]]]
    """Rows of a plain-SQL read of the database, for what the protocol does not return."""

    async def open(self, clock: Clock = utc_now) -> Store:
        return await self.open_store(clock)

    async def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return await self.peek(sql, params)


def sqlite(tmp_path: Path) -> Backend:
    """A SQLite file in the test's directory, opened through `open_store`."""
    path = tmp_path / "inbox.db"

    async def opened(clock: Clock) -> Store:
        return await open_store(path, clock=clock)

    async def peek(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute(sql, params).fetchall()

    return Backend("sqlite", opened, StoreConflict, peek)


def postgres(tmp_path: Path) -> Backend:
    """A fresh database on this test process's PostgreSQL 16 server (`tests/support/postgres.py`)."""
    from tests.support import postgres as server

    url = server.fresh_database()

    async def opened(clock: Clock) -> Store:
        return await open_store(url, clock=clock)

    async def peek(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return await server.async_rows(url, sql, params)

    return Backend("postgres", opened, StoreConflict, peek)


BACKENDS: list[Callable[[Path], Backend]] = [sqlite, postgres]
"""Every implementation of `Store`; the contract suite runs once for each."""


@pytest.fixture(params=BACKENDS, ids=lambda factory: factory.__name__)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh, empty database of each backend in turn."""
    factory: Callable[[Path], Backend] = request.param
    return factory(tmp_path)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    """A store on the backend's database, closed after the test."""
    opened = await backend.open()
    yield opened
    await opened.close()
