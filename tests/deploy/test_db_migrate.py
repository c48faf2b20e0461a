"""`wa-inbox db migrate` as a step of its own, and `serve` refusing a schema it must not run on:
newer than this release (always), or older with `[store] migrate = "never"` (several replicas)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.store.test_sqlite_newer_schema import digest, expected_sentence, newer
from tests.support.cli import assert_one_line_error, run
from tests.support.receiver import TOKEN, wait_healthy
from wa_inbox.config import ConfigError, load_settings
from wa_inbox.running.sockets import bind
from wa_inbox.store.migrations import MIGRATIONS, migrate

SERVE_ENV = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": "https://inbox.example.com"}
STEPS = [name for name, _ in MIGRATIONS]


def recorded(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return sorted(name for (name,) in conn.execute("SELECT name FROM migrations"))


def older(path: Path, missing: int = 2) -> None:
    """A database as the release before the last `missing` steps left it."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrate(conn, MIGRATIONS[:-missing])


def test_migrate_creates_a_new_database_then_finds_it_current(tmp_path: Path) -> None:
    db = tmp_path / "data" / "inbox.db"

    first = run(tmp_path, "db", "migrate", "--db", str(db))
    again = run(tmp_path, "db", "migrate", "--db", str(db))

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"applied {step}" for step in STEPS]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert recorded(db) == sorted(STEPS)
    assert (again.returncode, again.stdout, again.stderr) == (0, "already current\n", "")


def test_migrate_applies_only_the_missing_steps_of_an_older_database(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    older(db, missing=2)

    result = run(tmp_path, "db", "migrate", WA_INBOX_DB=str(db))

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"applied {STEPS[-2]}", f"applied {STEPS[-1]}"]
    assert recorded(db) == sorted(STEPS)


@pytest.mark.parametrize(
    "command",
    [("db", "migrate"), ("serve", "--port", "0"), ("messages", "list"), ("db", "stats"), ("tui", "--attach")],
    ids=" ".join,
)
def test_a_database_of_a_newer_release_is_refused_untouched(tmp_path: Path, command: tuple[str, ...]) -> None:
    db = tmp_path / "inbox.db"
    before = newer(db)

    result = run(tmp_path, *command, "--db", str(db), **SERVE_ENV)

    assert_one_line_error(result, 2)
    assert result.stderr == f"wa-inbox: {expected_sentence(db)}\n"
    assert digest(db) == before


@pytest.mark.parametrize("how", ["env", "toml"])
def test_serve_with_migrate_never_refuses_an_older_schema(tmp_path: Path, how: str) -> None:
    db = tmp_path / "inbox.db"
    older(db, missing=1)
    config = tmp_path / "wa-inbox.toml"
    config.write_text('[store]\nmigrate = "never"\n')
    setting = {"WA_INBOX_MIGRATE": "never"} if how == "env" else {"WA_INBOX_CONFIG": str(config)}

    result = run(tmp_path, "serve", "--port", "0", "--db", str(db), **SERVE_ENV, **setting)

    assert_one_line_error(
        result, 2, f"{db} lacks 1 schema step(s) from {STEPS[-1]} on", "`wa-inbox db migrate`"
    )
    assert recorded(db) == sorted(STEPS[:-1])


def test_serve_with_migrate_never_refuses_a_database_not_created_yet(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"

    result = run(tmp_path, "serve", "--port", "0", "--db", str(db), WA_INBOX_MIGRATE="never", **SERVE_ENV)

    assert_one_line_error(result, 2, f"lacks {len(STEPS)} schema step(s) from {STEPS[0]} on")


async def test_serve_with_migrate_never_runs_once_db_migrate_has(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    older(db, missing=3)
    migrated = await asyncio.to_thread(run, tmp_path, "db", "migrate", "--db", str(db))
    assert migrated.stdout.splitlines() == [f"applied {step}" for step in STEPS[-3:]]
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    server = start_serve(tmp_path, db, port, WA_INBOX_MIGRATE="never")
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_healthy(client, f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr.decode()
    assert recorded(db) == sorted(STEPS)


def start_serve(tmp_path: Path, db: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`wa-inbox serve` on `port`, with nothing of this environment but where Python finds wa-inbox."""
    inherited = {name: os.environ[name] for name in ("PATH", "PYTHONPATH") if name in os.environ}
    return subprocess.Popen(
        [sys.executable, "-m", "wa_inbox", "serve", "--port", str(port)],
        env={**inherited, **SERVE_ENV, "HOME": str(tmp_path), "WA_INBOX_DB": str(db), **env},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_the_migrate_setting_is_auto_unless_set_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "wa-inbox.toml"
    assert load_settings(env={}).store.migrate == "auto"
    assert load_settings(env={"WA_INBOX_MIGRATE": "never"}).store.migrate == "never"
    config.write_text('[store]\nmigrate = "sometimes"\n')
    with pytest.raises(ConfigError, match="migrate"):
        load_settings(config, env={})
