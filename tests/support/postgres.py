"""A real PostgreSQL 16 for the tests: one server per test process (the `pgserver` wheel), a fresh
database per test, copied from a template migrated once (a `CREATE DATABASE … TEMPLATE` takes
milliseconds, migrating takes longer).

The server starts in well under a second; if it cannot start, the test that needs it fails with the
reason (PostgreSQL tests never skip: a missing server is a broken set-up, not an optional feature).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from wa_inbox.dburl import DatabaseUrl

TEMPLATE = "wa_template"
_names = itertools.count()


@cache
def server_url() -> str:
    """The URL of this process's server (its `postgres` database), started on first use."""
    import pgserver

    folder = tempfile.mkdtemp(prefix="wa-pg-")  # short: the server's socket lives here (108-byte limit)
    server = pgserver.get_server(folder, cleanup_mode="stop")
    atexit.register(shutil.rmtree, folder, True)
    atexit.register(server.cleanup)
    return str(server.get_uri())


def url_of(database: str) -> str:
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(path=f"/{database}"))


@cache
def _template() -> str:
    """A database with the newest schema, for every test's database to copy."""
    from wa_inbox.store.postgres.upgrade import upgrade_database

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    with ThreadPoolExecutor(1) as thread:  # its own event loop, whether or not a test's is running
        thread.submit(upgrade_database, DatabaseUrl(url_of(TEMPLATE)), lambda line: None).result()
    return TEMPLATE


def fresh_database(migrated: bool = True) -> DatabaseUrl:
    """A new, empty database on this process's server: migrated (from the template) or blank."""
    name = f"wa_{os.getpid()}_{next(_names)}"
    template = _template() if migrated else "template0"
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return DatabaseUrl(url_of(name))


def rows(url: DatabaseUrl, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """A plain read with SQLite's `?` placeholders accepted (the contract suite's `peek` is shared)."""
    with psycopg.connect(url.conninfo, autocommit=True) as conn:
        return conn.execute(sql.replace("?", "%s"), list(params)).fetchall()


async def async_rows(url: DatabaseUrl, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(rows, url, sql, params)
