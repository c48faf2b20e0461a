"""The benchmarks' own PostgreSQL 16, started as the tests start theirs (the `pgserver` wheel).

A real server on a Unix socket in a short folder under /tmp (a socket path may not be longer than
107 bytes), with the server settings a deployment would choose given as `NAME=VALUE` (`ALTER SYSTEM`,
then a reload: only settings that take effect without a restart, such as `commit_delay`). It stops,
and its folder is removed, when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from wa_inbox.dburl import DatabaseUrl

SHOWN = ("synchronous_commit", "fsync", "commit_delay", "commit_siblings", "shared_buffers", "work_mem")
"""The settings a benchmark prints beside its figures."""


@dataclass(frozen=True)
class Postgres:
    """A running server: URLs of its databases, and the databases' making and dropping."""

    uri: str

    def url(self, database: str) -> DatabaseUrl:
        return DatabaseUrl(urlunsplit(urlsplit(self.uri)._replace(path=f"/{database}")))

    def admin(self, sql: str) -> list[tuple[object, ...]]:
        """One statement on the `postgres` database, outside any transaction (CREATE DATABASE needs it)."""
        with psycopg.connect(self.uri, autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def create(self, database: str, template: str | None = None) -> DatabaseUrl:
        """A new database (a copy of `template`, which takes well under a second, when given)."""
        self.admin(f"DROP DATABASE IF EXISTS {database}")
        copy = f" TEMPLATE {template}" if template else ""
        self.admin(f"CREATE DATABASE {database}{copy}")
        return self.url(database)

    def drop(self, database: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def settings(self) -> str:
        values = self.admin(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN ("
            + ", ".join(f"'{name}'" for name in SHOWN)
            + ")"
        )
        shown = {
            str(name): f"{setting}{'' if unit is None else ' x ' + str(unit)}"
            for name, setting, unit in values
        }
        version = self.admin("SHOW server_version")[0][0]
        return f"PostgreSQL {version}: " + ", ".join(f"{name}={shown[name]}" for name in SHOWN)


def parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs (`--pg-setting`, the settings of a `--pg-variant`)."""
    settings = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.replace("_", "").isalnum():
            raise SystemExit(f"server setting {pair!r}: give NAME=VALUE, e.g. commit_delay=100")
        settings[name] = value
    return settings


@contextlib.contextmanager
def server(settings: dict[str, str] | None = None, folder: Path | None = None) -> Iterator[Postgres]:
    """A PostgreSQL 16 of its own for the length of the block, fsync and synchronous_commit on (the
    defaults, which keep every acknowledged commit), with `settings` applied and no others.

    Its data lives in `folder` when given (kept, with its databases, for the next run: seeding a year
    takes minutes), else in a new folder removed at the end."""
    try:
        import pgserver
    except ImportError:
        raise SystemExit("pgserver is not installed: run `.venv/bin/pip install -e '.[test]'`") from None
    if folder is not None and len(str(folder)) > 60:
        raise SystemExit(f"{folder}: too long for the server's socket path; use a short one under /tmp")
    data = folder or Path(tempfile.mkdtemp(prefix="wa-pg-", dir="/tmp"))
    try:
        started = pgserver.get_server(data, cleanup_mode="stop")
        try:
            postgres = Postgres(str(started.get_uri()))
            apply(postgres, settings or {})
            yield postgres
        finally:
            started.cleanup()
    finally:
        if folder is None:
            shutil.rmtree(data, ignore_errors=True)


def apply(postgres: Postgres, settings: dict[str, str]) -> None:
    """`ALTER SYSTEM` each setting (after forgetting any a kept folder had) and reload; one that would
    need a restart is refused."""
    postgres.admin("ALTER SYSTEM RESET ALL")
    for name, value in settings.items():
        if name in ("synchronous_commit", "fsync"):
            raise SystemExit(
                f"server setting {name}: stays on; a benchmark that loses commits measures nothing"
            )
        quoted = value.replace("'", "''")
        postgres.admin(f"ALTER SYSTEM SET {name} = '{quoted}'")
    postgres.admin("SELECT pg_reload_conf()")
    time.sleep(0.5)  # the reload is a signal: give the postmaster a moment before checking
    pending = postgres.admin("SELECT name FROM pg_settings WHERE pending_restart")
    if pending:
        names = ", ".join(str(name) for (name,) in pending)
        raise SystemExit(
            f"server setting {names}: takes effect only at a restart, which this bench does not do"
        )
