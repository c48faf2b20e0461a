"""Every bad setting or path is one sentence and exit status 2 at start-up, never a traceback; the
database and its log are created private (0600)."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run
from tests.support.receiver import TOKEN
from wa_inbox.domain.optout import OptAction
from wa_inbox.store.sqlite import SqliteStore

SERVE_ENV = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": "https://inbox.example.com"}


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`wa-inbox serve` on a free port; a bad setting must end it at once."""
    return run(tmp_path, "serve", "--port", "0", *args, **{**SERVE_ENV, **env})


def toml(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "wa-inbox.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("https://inbox.example.com:99999", ["PUBLIC_BASE_URL", "valid port"]),
        ("https://inbox.example.com:abc", ["PUBLIC_BASE_URL", "valid port"]),
        ("https://inbox.example.com:0", ["PUBLIC_BASE_URL", "valid port"]),
        ("abc", ["PUBLIC_BASE_URL", "http:// or https:// URL"]),
        ("https://[::1", ["PUBLIC_BASE_URL"]),
    ],
)
def test_a_bad_public_base_url_is_one_sentence(tmp_path: Path, url: str, fragments: list[str]) -> None:
    assert_one_line_error(serve(tmp_path, PUBLIC_BASE_URL=url), 2, *fragments)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[webhooks]\nsignature_auth_token_env = ["A"]\n', ["webhooks.signature_auth_token_env"]),
        ('[webhooks]\nsignature_auth_token_env = "A B"\n', ["webhooks.signature_auth_token_env"]),
        ("[opt]\nsuppression_ttl_days = 99999999999\n", ["opt.suppression_ttl_days", "36500"]),
        (
            '[webhooks]\ninbound_path = "/twilio/hook"\nstatus_path = "/twilio/hook"\n',
            ["webhooks.status_path", "must differ from webhooks.inbound_path"],
        ),
        ('[webhooks]\ninbound_path = "/healthz"\n', ["webhooks.inbound_path", "/healthz"]),
        ("[outbox]\nrate_per_second = inf\n", ["outbox.rate_per_second", "finite"]),
        ("[media]\npresign_ttl_seconds = 99999999999999\n", ["media.presign_ttl_seconds"]),
        ("[receiver]\nmax_connections = 2\n", ["receiver.max_connections"]),
        ("[retention]\nwebhook_log_days = 0\n", ["retention.webhook_log_days"]),
        ("[retention]\nmedia_days = 0\n", ["retention.media_days", "keep media forever"]),
        ('[store]\npath = "/nonexistent-wa-inbox-test/"\n', ["store.path"]),
        ('[store]\npath = "a\\u0000b.db"\n', ["store.path"]),
        ('[events]\nkafka_bootstrap = "kafka1:notaport"\n', ["events.kafka_bootstrap", "host:port"]),
        ('[events]\nkafka_bootstrap = "https://kafka1:9092"\n', ["events.kafka_bootstrap", "no scheme"]),
        ('[events]\nsecurity_protocol = "TLS"\n', ["events.security_protocol"]),
        ('[events]\nsecurity_protocol = "SASL_SSL"\n', ["events.sasl_mechanism", "must be set"]),
        ('[events]\nsasl_mechanism = "PLAIN"\n', ["events.sasl_mechanism", "SASL_SSL"]),
        (
            '[events]\nsecurity_protocol = "SASL_SSL"\nsasl_mechanism = "PLAIN"\nsasl_username = "u"\n',
            ["events.sasl_password", "WA_INBOX_KAFKA_SASL_PASSWORD", "must be set"],
        ),
        ('[events]\nsecurity_protocol = "SSL"\nssl_cafile = "/nonexistent/ca.pem"\n', ["events.ssl_cafile"]),
        ('[events]\nssl_cafile = "/etc/hostname"\n', ["events.ssl_cafile", "security_protocol SSL"]),
        ('[events]\ninbound_topic = "twilio inbound"\n', ["events.inbound_topic", "topic name"]),
        ('[events]\nstatus_topic = "twilio.inbound.v1"\n', ["events.status_topic", "must differ"]),
        ("[events]\nretention_days = 0\n", ["events.retention_days"]),
    ],
)
def test_a_bad_config_value_is_one_sentence(tmp_path: Path, text: str, fragments: list[str]) -> None:
    result = serve(tmp_path, "--config", toml(tmp_path, text))

    assert_one_line_error(result, 2, *fragments)


def test_a_kafka_password_without_sasl_is_one_sentence_that_never_shows_it(tmp_path: Path) -> None:
    result = serve(tmp_path, WA_INBOX_KAFKA_SASL_PASSWORD="hunter2-kafka-secret")

    assert_one_line_error(result, 2, "events.sasl_password", "sasl_mechanism")
    assert "hunter2" not in result.stdout + result.stderr


def test_a_binary_config_file_is_one_sentence(tmp_path: Path) -> None:
    path = toml(tmp_path, bytes(range(256)) * 8)

    assert_one_line_error(serve(tmp_path, "--config", path), 2, path, "not valid TOML", "not UTF-8")


def test_a_binary_env_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"TWILIO_AUTH_TOKEN=\xff\xfe\x00\x81\n")
    (tmp_path / ".env").chmod(0o600)

    assert_one_line_error(serve(tmp_path), 2, ".env", "not UTF-8")


def test_db_on_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not SQLite\n")

    result = serve(tmp_path, "--db", "notes.txt")

    assert_one_line_error(result, 2, "notes.txt is not a wa-inbox database", "--db")
    assert (tmp_path / "notes.txt").read_text() == "not SQLite\n"


def test_db_in_a_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")

    result = serve(tmp_path, "--db", str(tmp_path / "a-file" / "inbox.db"))

    assert_one_line_error(result, 2, "a-file is not a folder")


def test_db_in_a_folder_where_no_file_can_be_created(tmp_path: Path) -> None:
    result = serve(tmp_path, "--db", "/sys/wa-inbox-test.db")  # sysfs: refused even to root

    assert_one_line_error(result, 2, "/sys/wa-inbox-test.db", "cannot be created")


def test_db_in_a_read_only_folder(tmp_path: Path) -> None:
    """As another user, when the tests run as root (who writes into any folder)."""
    folder = Path(tempfile.mkdtemp(prefix="wa-inbox-ro-"))
    try:
        asyncio.run(close_after_open(folder / "inbox.db"))
        (folder / "inbox.db").chmod(0o644)
        folder.chmod(0o555)
        as_other_user = os.geteuid() == 0
        if as_other_user and shutil.which("setpriv") is None:
            pytest.skip("running as root, and no setpriv to run as another user")
        result = run_as(tmp_path, as_other_user, "messages", "list", "--db", str(folder / "inbox.db"))
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)

    assert_one_line_error(result, 2, str(folder / "inbox.db"), "read-only for this user")


def run_as(tmp_path: Path, other_user: bool, *args: str) -> subprocess.CompletedProcess[str]:
    if not other_user:
        return run(tmp_path, *args)
    home = Path(tempfile.mkdtemp(prefix="wa-inbox-nobody-"))
    home.chmod(0o777)
    command = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        # Reading and traversing stay allowed (the checkout may sit in a folder only root may enter,
        # as CI's does); writing is what this user must lack.
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        sys.executable,
        "-m",
        "wa_inbox",
    ]
    try:
        return subprocess.run(
            [*command, *args],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home),
            },
            cwd=home,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        shutil.rmtree(home)


@pytest.mark.parametrize("command", [["messages", "list"], ["tui", "--attach"], ["templates", "list"]])
def test_every_command_says_the_same_of_a_file_that_is_not_sqlite(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "notes.txt").write_text("not SQLite\n")

    result = run(tmp_path, *command, "--db", "notes.txt")

    assert_one_line_error(result, 2, "notes.txt is not a wa-inbox database")


async def close_after_open(path: Path) -> None:
    store = await SqliteStore.open(path)
    await store.close()


async def test_the_database_and_its_log_are_created_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask, which would make them 0644
    try:
        store = await SqliteStore.open(tmp_path / "data" / "inbox.db")
        try:
            await store.set_opt_state("whatsapp:+5511987654321", OptAction.STOP, "test")  # a commit
            modes = {
                path.name: stat.S_IMODE(path.stat().st_mode) for path in (tmp_path / "data").glob("inbox.db*")
            }
        finally:
            await store.close()
    finally:
        os.umask(old_umask)

    assert modes == {"inbox.db": 0o600, "inbox.db-wal": 0o600, "inbox.db-shm": 0o600}
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700


@pytest.mark.parametrize("how", ["--db", "WA_INBOX_DB"])
def test_an_unreachable_database_server_is_one_sentence_without_its_password(
    tmp_path: Path, how: str
) -> None:
    url = "postgresql://agent:s3cret-pw@db.invalid/inbox"
    args, env = (["--db", url], {}) if how == "--db" else ([], {"WA_INBOX_DB": url})
    result = run(tmp_path, "conversations", "list", *args, **env)
    assert_one_line_error(result, 2, "postgresql://agent:***@db.invalid/inbox cannot be reached")
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert not list(tmp_path.glob("postgresql*"))


@pytest.mark.parametrize("how", ["--db", "WA_INBOX_DB"])
def test_another_database_url_is_one_sentence_and_creates_nothing(tmp_path: Path, how: str) -> None:
    url = "mysql://agent@db.example/inbox"
    args, env = (["--db", url], {}) if how == "--db" else ([], {"WA_INBOX_DB": url})
    result = run(tmp_path, "conversations", "list", *args, **env)
    assert_one_line_error(result, 2, "is a mysql: URL", "postgresql://")
    assert not list(tmp_path.glob("mysql*"))
