"""`wa-inbox db migrate` and the schema checks on PostgreSQL, as a Kubernetes Job and its replicas use
them: the Job migrates once, replicas with `[store] migrate = "never"` refuse a database it has not
migrated, and every command refuses a database a newer release migrated, in one sentence that never
shows the URL's password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run
from tests.support.postgres import fresh_database, rows
from tests.support.receiver import TOKEN
from wa_inbox.store.postgres.schema import MIGRATIONS

SERVE_ENV = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": "https://inbox.example.com"}
STEPS = [name for name, _ in MIGRATIONS]


def test_migrate_creates_the_schema_then_finds_it_current(tmp_path: Path) -> None:
    database = fresh_database(migrated=False)

    first = run(tmp_path, "db", "migrate", "--db", database.conninfo)
    again = run(tmp_path, "db", "migrate", "--db", database.conninfo)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"applied {step}" for step in STEPS]
    assert rows(database, "SELECT name FROM schema_migrations ORDER BY name") == [(s,) for s in sorted(STEPS)]
    assert (again.returncode, again.stdout) == (0, "already current\n")


@pytest.mark.parametrize(
    "command",
    [("db", "migrate"), ("serve", "--port", "0"), ("messages", "list"), ("db", "stats")],
    ids=" ".join,
)
def test_a_database_of_a_newer_release_is_refused_in_one_sentence(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    database = fresh_database()
    rows(database, "INSERT INTO schema_migrations (name) VALUES ('999_next') RETURNING name")

    result = run(tmp_path, *command, WA_INBOX_DB=database.conninfo, **SERVE_ENV)

    assert_one_line_error(result, 2, "written by a newer wa-inbox", "999_next", str(database))
    assert rows(database, "SELECT count(*) FROM schema_migrations") == [(len(STEPS) + 1,)]


def test_serve_that_must_not_migrate_refuses_a_database_the_job_has_not_migrated(tmp_path: Path) -> None:
    database = fresh_database(migrated=False)

    result = run(
        tmp_path, "serve", "--port", "0", WA_INBOX_DB=database.conninfo, WA_INBOX_MIGRATE="never", **SERVE_ENV
    )

    assert_one_line_error(result, 2, 'migrate is "never"', "wa-inbox db migrate")
    assert rows(database, "SELECT to_regclass('messages') IS NULL") == [(True,)]


def test_a_password_in_the_url_is_never_printed(tmp_path: Path) -> None:
    database = fresh_database()
    with_password = database.conninfo.replace("postgres:@", "postgres:hunter2@")
    rows(database, "INSERT INTO schema_migrations (name) VALUES ('999_next') RETURNING name")

    result = run(tmp_path, "db", "migrate", "--db", with_password)

    assert result.returncode == 2
    assert "hunter2" not in result.stdout + result.stderr
