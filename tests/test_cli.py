"""The real `wa-inbox` console script in a subprocess: exit statuses, one-line errors, stable output."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.cli import assert_one_line_error, run
from wa_inbox.domain.models import (
    InboundMessage,
    StatusUpdate,
    Verdict,
    WebhookKind,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.store.sqlite import SqliteStore

BUSINESS = "whatsapp:+14155238886"
ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+34612345678"
CARLA = "whatsapp:+4915112345678"
T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

MESSAGE_KEYS = {
    "sid",
    "direction",
    "contact",
    "from",
    "to",
    "body",
    "status",
    "error_code",
    "error_message",
    "error_meaning",
    "message_type",
    "media",
    "location",
    "button",
    "referral",
    "replied_to_sid",
    "template_sid",
    "template_variables",
    "created_at",
    "updated_at",
    "read_by_agent_at",
    "author",
}
CONVERSATION_KEYS = {
    "address",
    "profile_name",
    "last_message",
    "last_message_at",
    "unread_count",
    "window_expires_at",
    "opted_out",
    "status",
    "assignee",
    "snoozed_until",
    "labels",
}
TABLE_HEADER = ["sid", "direction", "contact", "from", "to", "status", "error_code", "created_at", "body"]


def sid(n: int) -> str:
    return f"SM{n:032x}"


ANA_IN, ANA_OUT, BEN_IN, BEN_OUT, CARLA_STOP = sid(1), sid(2), sid(3), sid(4), sid(5)


def record(kind: WebhookKind, form: dict[str, str], at: datetime) -> WebhookRecord:
    path = "/twilio/inbound" if kind is WebhookKind.INBOUND else "/twilio/status"
    return WebhookRecord(kind, path, Verdict.ACCEPTED, urlencode(form), {}, at, None, form["MessageSid"])


async def inbound(
    store: SqliteStore,
    sid: str,
    sender: str,
    body: str,
    name: str,
    at: datetime,
    opt: OptAction | None = None,
) -> None:
    message = InboundMessage(sid=sid, from_addr=sender, to_addr=BUSINESS, body=body, profile_name=name)
    form = {"MessageSid": sid, "From": sender, "To": BUSINESS, "Body": body, "ProfileName": name}
    confirmation = "You are opted out. Reply START to re-subscribe." if opt else None
    await store.ingest_inbound(message, record(WebhookKind.INBOUND, form, at), opt, confirmation)


async def status(
    store: SqliteStore, sid: str, to: str, state: str, at: datetime, error: int | None = None
) -> None:
    update = StatusUpdate(sid=sid, status=state, error_code=error, from_addr=BUSINESS, to_addr=to)
    form = {"MessageSid": sid, "MessageStatus": state, "To": to, "From": BUSINESS}
    await store.ingest_status(update, record(WebhookKind.STATUS, form, at))


async def seed(path: Path) -> None:
    """Ana wrote and read our reply, Ben wrote and our reply failed, Carla sent STOP (and is confirmed)."""
    store = await SqliteStore.open(path)
    try:
        minute = timedelta(minutes=1)
        await inbound(store, ANA_IN, ANA, "Hi, is my order on its way?", "Ana", T0)
        for n, state in enumerate(("sent", "delivered", "read"), start=1):
            await status(store, ANA_OUT, ANA, state, T0 + n * minute)
        await inbound(store, BEN_IN, BEN, "Can I change the delivery address?", "Ben", T0 + 5 * minute)
        await status(store, BEN_OUT, BEN, "failed", T0 + 6 * minute, error=63016)
        await inbound(store, CARLA_STOP, CARLA, "STOP", "Carla", T0 + 7 * minute, OptAction.STOP)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "inbox.db"
    asyncio.run(seed(path))
    return path


def listed(tmp_path: Path, db: Path, *args: str) -> list[dict[str, Any]]:
    result = run(tmp_path, "messages", "list", "--output", "json", *args, WA_INBOX_DB=str(db))
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


@pytest.mark.parametrize(
    ("args", "env", "fragments"),
    [
        ((), {"TWILIO_ACCOUNT_SID": "AC-nope"}, ["TWILIO_ACCOUNT_SID"]),
        (("--config", "missing.toml"), {}, ["missing.toml", "does not exist"]),
        ((), {"WA_INBOX_CONFIG": "missing.toml"}, ["missing.toml", "does not exist"]),
    ],
    ids=["bad-env", "missing-config-flag", "missing-config-variable"],
)
def test_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], fragments: list[str]
) -> None:
    result = run(tmp_path, "messages", "list", *args, WA_INBOX_DB=str(tmp_path / "x.db"), **env)
    assert_one_line_error(result, 2, *fragments)


def test_invalid_toml_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[twilio\n")
    result = run(tmp_path, "conversations", "list", "--config", "bad.toml")
    assert_one_line_error(result, 2, "bad.toml", "not valid TOML")


def test_bad_address_is_one_line_and_exit_2(tmp_path: Path, seeded_db: Path) -> None:
    result = run(tmp_path, "messages", "list", "--to", "notanumber", "--db", str(seeded_db))
    assert_one_line_error(result, 2, "'notanumber' is not a valid phone number", "+14155550100")


def test_missing_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "inbox.db"
    result = run(tmp_path, "messages", "list", WA_INBOX_DB=str(db))
    assert_one_line_error(result, 2, f"There is no database at {db}", "wa-inbox serve")
    assert not db.exists() and not db.parent.exists()  # a typo must not create an empty database


def test_not_a_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not SQLite\n")
    (tmp_path / "a-directory").mkdir()
    result = run(tmp_path, "messages", "list", "--db", "notes.txt")
    assert_one_line_error(result, 2, "notes.txt is not a wa-inbox database")
    result = run(tmp_path, "conversations", "list", WA_INBOX_DB=str(tmp_path / "a-directory"))
    assert_one_line_error(result, 2, "There is no database at")


def test_messages_json_newest_first_with_the_documented_keys(tmp_path: Path, seeded_db: Path) -> None:
    records = listed(tmp_path, seeded_db)

    assert all(set(r) == MESSAGE_KEYS for r in records)
    assert [r["sid"] for r in records] == [None, CARLA_STOP, BEN_OUT, BEN_IN, ANA_OUT, ANA_IN]
    confirmation, stop, failed, ben_in, read, _ = records
    assert (confirmation["direction"], confirmation["status"], confirmation["to"]) == (
        "out",
        "pending",
        CARLA,
    )
    assert (stop["direction"], stop["contact"], stop["from"], stop["body"]) == ("in", CARLA, CARLA, "STOP")
    assert (failed["status"], failed["error_code"], failed["contact"]) == ("failed", 63016, BEN)
    assert failed["error_meaning"]
    assert (read["status"], read["direction"], read["to"]) == ("read", "out", ANA)
    assert ben_in["created_at"] == "2025-06-02T09:05:00Z"


def test_messages_tsv(tmp_path: Path, seeded_db: Path) -> None:
    result = run(tmp_path, "messages", "list", "--output", "tsv", "--db", str(seeded_db))
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter="\t"))
    assert rows[0] == TABLE_HEADER
    assert [row[0] for row in rows[1:]] == ["", CARLA_STOP, BEN_OUT, BEN_IN, ANA_OUT, ANA_IN]
    assert rows[3][5:7] == ["failed", "63016"]
    assert rows[4][8] == "Can I change the delivery address?"


def test_messages_csv(tmp_path: Path, seeded_db: Path) -> None:
    result = run(tmp_path, "messages", "list", "--output", "csv", "--db", str(seeded_db))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == TABLE_HEADER
    assert [(row["sid"], row["direction"], row["status"]) for row in rows[-2:]] == [
        (ANA_OUT, "out", "read"),
        (ANA_IN, "in", "received"),
    ]
    assert rows[-1]["body"] == "Hi, is my order on its way?"


@pytest.mark.parametrize(
    ("args", "sids"),
    [
        (("--direction", "in"), [CARLA_STOP, BEN_IN, ANA_IN]),
        (("--direction", "out"), [None, BEN_OUT, ANA_OUT]),
        (("--status", "read"), [ANA_OUT]),
        (("--from", "+55 11 98765-4321"), [ANA_IN]),
        (("--to", "whatsapp:+34612345678"), [BEN_OUT]),
        (("--limit", "2"), [None, CARLA_STOP]),
        (("--direction", "in", "--limit", "1"), [CARLA_STOP]),
    ],
)
def test_messages_filters(tmp_path: Path, seeded_db: Path, args: tuple[str, ...], sids: list[str]) -> None:
    assert [r["sid"] for r in listed(tmp_path, seeded_db, *args)] == sids


def test_fetch_one_message_as_json(tmp_path: Path, seeded_db: Path) -> None:
    result = run(tmp_path, "messages", "fetch", ANA_OUT, "--output", "json", WA_INBOX_DB=str(seeded_db))
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stdout)
    assert set(message) == MESSAGE_KEYS
    assert (message["sid"], message["status"], message["contact"]) == (ANA_OUT, "read", ANA)


def test_fetch_unknown_sid_exits_1(tmp_path: Path, seeded_db: Path) -> None:
    result = run(tmp_path, "messages", "fetch", sid(99), WA_INBOX_DB=str(seeded_db))
    assert_one_line_error(result, 1, f"no message with SID {sid(99)}")


def test_conversations_json(tmp_path: Path, seeded_db: Path) -> None:
    result = run(tmp_path, "conversations", "list", "--output", "json", WA_INBOX_DB=str(seeded_db))
    assert result.returncode == 0, result.stderr
    conversations = json.loads(result.stdout)

    assert all(set(c) == CONVERSATION_KEYS for c in conversations)
    assert [c["address"] for c in conversations] == [CARLA, BEN, ANA]
    carla, ben, ana = conversations
    assert carla["opted_out"] is True and ben["opted_out"] is False
    assert carla["last_message"] == "You are opted out. Reply START to re-subscribe."
    assert ana == {
        "address": ANA,
        "profile_name": "Ana",
        "last_message": "",  # our reply, known only from its status callbacks, which carry no body
        "last_message_at": "2025-06-02T09:01:00Z",
        "unread_count": 1,
        "window_expires_at": "2025-06-03T09:00:00Z",
        "opted_out": False,
        "status": "open",
        "assignee": None,
        "snoozed_until": None,
        "labels": [],
    }
