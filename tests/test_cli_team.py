"""The team inbox from the command line (#14), through the real console script on a real SQLite file:
every command, its JSON fields, and one sentence with exit status 2 for bad input."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, TypeVar

import pytest

from tests.support.cli import assert_one_line_error, run, run_cli
from tests.support.store import ANA, BEN, inbound
from tests.support.world import customer_writes, running_world
from tests.test_cli import CONVERSATION_KEYS, MESSAGE_KEYS
from wa_inbox.domain.models import Direction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import EventKind
from wa_inbox.store import MessageQuery, Store, open_store

R = TypeVar("R")

CARLA = "whatsapp:+4915112345678"
DORA = "whatsapp:+14155550123"
NEVER = "+14155550199"
"""A valid number that never wrote nor was written to."""
NOTE_KEYS = {"id", "author", "body", "created_at"}
REPLY_KEYS = {"name", "body", "updated_by", "updated_at"}
CONTACT_KEYS = {
    "address",
    "profile_name",
    "wa_id",
    "last_inbound_at",
    "window_expires_at",
    "opted_out",
    "opted_out_at",
    "opted_out_source",
    "opt_history",
    "status",
    "assignee",
    "labels",
}
FUTURE = "2099-06-02T17:00:00Z"


async def seed(path: Path) -> None:
    """Agents ana and ben at work before anyone writes; then Ana, Ben and Carla write, and ana reads Ana."""
    async with open_store(path) as store:
        await store.record_agent("ana")
        await store.record_agent("ben")
        await inbound(store, 1, "Where is my order?", ANA)
        await inbound(store, 2, "Can I change the address?", BEN)
        await inbound(store, 3, "Do you ship to Berlin?", CARLA)
        await store.mark_read(ANA, "ana")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "inbox.db"
    asyncio.run(seed(path))
    return path


def with_store(db: Path, use: Callable[[Store], Awaitable[R]]) -> R:
    async def opened() -> R:
        async with open_store(db) as store:
            return await use(store)

    return asyncio.run(opened())


def cli(tmp_path: Path, db: Path, *args: str, **env: str) -> CompletedProcess[str]:
    return run(tmp_path, *args, "--db", str(db), **env)


def ok(result: CompletedProcess[str]) -> Any:
    """The JSON a command printed, once it exited 0."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def listed(tmp_path: Path, db: Path, *args: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = ok(cli(tmp_path, db, "conversations", "list", "--output", "json", *args))
    return records


def agents(db: Path) -> list[str]:
    async def names(store: Store) -> list[str]:
        return [agent.name for agent in await store.list_agents()]

    return with_store(db, names)


# --- conversations assign --------------------------------------------------------------------------


def test_assign_to_an_agent_and_unassign(tmp_path: Path, db: Path) -> None:
    given = ok(
        cli(
            tmp_path,
            db,
            "conversations",
            "assign",
            "+55 11 98765-4321",
            "--to",
            "ben",
            "--agent",
            "ana",
            "--output",
            "json",
        )
    )

    assert set(given) == CONVERSATION_KEYS
    assert (given["address"], given["assignee"], given["status"]) == (ANA, "ben", "open")
    events = with_store(db, lambda store: store.thread_events(ANA))
    assert [(e.kind, e.author, e.body) for e in events] == [(EventKind.ASSIGNED, "ana", "ben")]

    again = cli(tmp_path, db, "conversations", "assign", ANA, "--to", "ben", "--agent", "ana")
    assert again.returncode == 0 and "already" in again.stdout

    taken_back = ok(
        cli(tmp_path, db, "conversations", "assign", ANA, "--unassign", "--agent", "ben", "--output", "json")
    )
    assert taken_back["assignee"] is None
    events = with_store(db, lambda store: store.thread_events(ANA))
    assert [(e.author, e.body) for e in events] == [("ana", "ben"), ("ben", "")]


def test_take_a_conversation_as_an_agent_never_seen_before(tmp_path: Path, db: Path) -> None:
    """Assigning to yourself needs no earlier sighting: the command records you."""
    result = cli(tmp_path, db, "conversations", "assign", BEN, "--to", "dora", "--agent", "dora")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "+34612345678 is now assigned to dora."
    assert agents(db) == ["ana", "ben", "dora"]


def test_the_agent_comes_from_the_environment_by_default(tmp_path: Path, db: Path) -> None:
    given = ok(
        cli(
            tmp_path,
            db,
            "conversations",
            "assign",
            BEN,
            "--to",
            "ana",
            "--output",
            "json",
            WA_INBOX_AGENT="ben",
        )
    )

    assert given["assignee"] == "ana"
    (event,) = with_store(db, lambda store: store.thread_events(BEN))
    assert event.author == "ben"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--to", "zoe"), ["--to zoe", "no agent of that name", "ana, ben"]),
        (("--to", "not a name"), ["'not a name' is not an agent name"]),
        ((), ["--to NAME", "--unassign"]),
        (("--to", "ben", "--unassign"), ["--to NAME", "--unassign"]),
        (("--to", "ben", "--agent", "ana smith"), ["--agent 'ana smith' is not an agent name"]),
    ],
    ids=["unknown-agent", "bad-assignee-name", "neither", "both", "bad-agent-name"],
)
def test_assign_bad_input_is_one_sentence_and_exit_2(
    tmp_path: Path, db: Path, args: tuple[str, ...], fragments: list[str]
) -> None:
    result = cli(tmp_path, db, "conversations", "assign", ANA, *args)

    assert_one_line_error(result, 2, *fragments)
    assert with_store(db, lambda store: store.thread_events(ANA)) == []


def test_a_bad_agent_setting_is_one_sentence_and_exit_2(tmp_path: Path, db: Path) -> None:
    result = cli(tmp_path, db, "conversations", "assign", ANA, "--to", "ben", WA_INBOX_AGENT="ana smith")

    assert_one_line_error(result, 2, "WA_INBOX_AGENT")


@pytest.mark.parametrize(
    "command",
    [
        ("conversations", "assign", NEVER, "--to", "ben"),
        ("conversations", "status", NEVER, "resolved"),
        ("conversations", "snooze", NEVER, "--until", FUTURE),
        ("conversations", "label", NEVER, "vip"),
        ("notes", "add", NEVER, "Called her"),
        ("notes", "list", NEVER),
        ("contacts", "opt-in", NEVER),
        ("contacts", "show", NEVER),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_an_unknown_address_is_one_sentence_and_exit_2(
    tmp_path: Path, db: Path, command: tuple[str, ...]
) -> None:
    result = cli(tmp_path, db, *command, "--agent", "ana")

    assert_one_line_error(result, 2, "There is no conversation with +14155550199")
    assert with_store(db, lambda store: store.get_contact("whatsapp:" + NEVER)) is None


@pytest.mark.parametrize(
    "command",
    [
        ("conversations", "assign", "notanumber", "--to", "ben"),
        ("conversations", "status", "notanumber", "open"),
        ("notes", "add", "notanumber", "hi"),
        ("contacts", "opt-out", "notanumber"),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_bad_address_is_one_sentence_and_exit_2(tmp_path: Path, db: Path, command: tuple[str, ...]) -> None:
    result = cli(tmp_path, db, *command)

    assert_one_line_error(result, 2, "'notanumber' is not a valid phone number")


def test_a_missing_database_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    result = cli(tmp_path, tmp_path / "nowhere.db", "conversations", "assign", ANA, "--to", "ana")

    assert_one_line_error(result, 2, "There is no database at")
    assert not (tmp_path / "nowhere.db").exists()


# --- conversations status / snooze -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "resolved", "open"])
def test_status(tmp_path: Path, db: Path, status: str) -> None:
    if status == "open":  # a change back to open
        with_store(db, lambda store: store.set_conversation_status(ANA, "resolved", "ben"))

    given = ok(
        cli(tmp_path, db, "conversations", "status", ANA, status, "--agent", "ana", "--output", "json")
    )

    assert set(given) == CONVERSATION_KEYS
    assert (given["status"], given["snoozed_until"]) == (status, None)
    events = with_store(db, lambda store: store.thread_events(ANA))
    assert (events[-1].kind, events[-1].author, events[-1].body) == (EventKind.STATUS, "ana", status)


def test_status_as_text_says_what_changed(tmp_path: Path, db: Path) -> None:
    first = cli(tmp_path, db, "conversations", "status", ANA, "resolved", "--agent", "ana")
    second = cli(tmp_path, db, "conversations", "status", ANA, "resolved", "--agent", "ana")

    assert first.stdout.strip() == "+5511987654321 is now resolved."
    assert second.stdout.strip() == "+5511987654321 was resolved already."


@pytest.mark.parametrize(
    ("status", "fragments"),
    [
        ("closed", ["'closed' is not a conversation status", "open, pending or resolved"]),
        ("snoozed", ["snooze"]),
    ],
)
def test_a_bad_status_is_one_sentence_and_exit_2(
    tmp_path: Path, db: Path, status: str, fragments: list[str]
) -> None:
    assert_one_line_error(cli(tmp_path, db, "conversations", "status", ANA, status), 2, *fragments)


@pytest.mark.parametrize(
    ("until", "expected"),
    [(FUTURE, FUTURE), ("2099-06-02T14:00:00-03:00", FUTURE), ("2099-06-02T17:00:00+00:00", FUTURE)],
)
def test_snooze_until_a_time_with_its_offset(tmp_path: Path, db: Path, until: str, expected: str) -> None:
    given = ok(
        cli(
            tmp_path,
            db,
            "conversations",
            "snooze",
            BEN,
            "--until",
            until,
            "--agent",
            "ben",
            "--output",
            "json",
        )
    )

    assert (given["status"], given["snoozed_until"]) == ("snoozed", expected)
    (snoozed,) = listed(tmp_path, db, "--status", "snoozed")
    assert snoozed["address"] == BEN


@pytest.mark.parametrize(
    ("until", "fragments"),
    [
        ("2020-01-01T00:00:00Z", ["is in the past"]),
        ("tomorrow", ["'tomorrow' is not an ISO 8601 time", "2025-06-02T17:00:00Z"]),
        ("2099-06-02T17:00:00", ["has no UTC offset"]),
        ("2099-13-40T17:00:00Z", ["is not an ISO 8601 time"]),
    ],
    ids=["past", "words", "no-offset", "no-such-day"],
)
def test_a_bad_time_is_one_sentence_and_exit_2(
    tmp_path: Path, db: Path, until: str, fragments: list[str]
) -> None:
    result = cli(tmp_path, db, "conversations", "snooze", BEN, "--until", until)

    assert_one_line_error(result, 2, *fragments)
    assert with_store(db, lambda store: store.thread_events(BEN)) == []


# --- conversations label ---------------------------------------------------------------------------


def test_label_and_remove(tmp_path: Path, db: Path) -> None:
    ok(cli(tmp_path, db, "conversations", "label", CARLA, "vip", "--agent", "ana", "--output", "json"))
    given = ok(
        cli(tmp_path, db, "conversations", "label", CARLA, "export", "--agent", "ana", "--output", "json")
    )
    assert sorted(given["labels"]) == ["export", "vip"]

    removed = ok(
        cli(
            tmp_path,
            db,
            "conversations",
            "label",
            CARLA,
            "vip",
            "--remove",
            "--agent",
            "ben",
            "--output",
            "json",
        )
    )

    assert removed["labels"] == ["export"]
    events = with_store(db, lambda store: store.thread_events(CARLA))
    assert [(e.kind, e.author, e.body) for e in events] == [
        (EventKind.LABEL, "ana", "+vip"),
        (EventKind.LABEL, "ana", "+export"),
        (EventKind.LABEL, "ben", "-vip"),
    ]
    again = cli(tmp_path, db, "conversations", "label", CARLA, "vip", "--remove")
    assert again.returncode == 0 and again.stdout.strip() == "+4915112345678 had no label vip."


@pytest.mark.parametrize("label", ["", "   ", "a,b", "tab\there"])
def test_a_bad_label_is_one_sentence_and_exit_2(tmp_path: Path, db: Path, label: str) -> None:
    assert_one_line_error(cli(tmp_path, db, "conversations", "label", CARLA, label), 2, "is not a label")


# --- conversations list ----------------------------------------------------------------------------


def team_world(db: Path) -> None:
    """Ana's is ben's; Ben's is resolved; Carla's is open, nobody's, labelled vip; Dora's is pending."""

    async def arrange(store: Store) -> None:
        await inbound(store, 4, "Hello?", DORA)
        await store.assign(ANA, "ben", "ana")
        await store.set_conversation_status(BEN, "resolved", "ben")
        await store.set_label(CARLA, "vip", True, "ana")
        await store.set_conversation_status(DORA, "pending", "ana")

    with_store(db, arrange)


@pytest.mark.parametrize(
    ("args", "addresses"),
    [
        (("--assignee", "none", "--status", "open"), [CARLA]),
        (("--assignee", "none"), [DORA, CARLA, BEN]),
        (("--assignee", "ben"), [ANA]),
        (("--assignee", "ana"), []),
        (("--status", "resolved"), [BEN]),
        (("--status", "pending"), [DORA]),
        (("--label", "vip"), [CARLA]),
        (("--label", "vip", "--status", "resolved"), []),
        (("--assignee", "none", "--limit", "2"), [DORA, CARLA]),
        ((), [DORA, CARLA, BEN, ANA]),
    ],
)
def test_list_filters(tmp_path: Path, db: Path, args: tuple[str, ...], addresses: list[str]) -> None:
    team_world(db)

    found = listed(tmp_path, db, *args)

    assert [c["address"] for c in found] == addresses
    assert all(set(c) == CONVERSATION_KEYS for c in found)


def test_list_json_has_the_team_fields(tmp_path: Path, db: Path) -> None:
    team_world(db)

    by_address = {c["address"]: c for c in listed(tmp_path, db)}

    assert {a: (c["status"], c["assignee"], c["labels"]) for a, c in by_address.items()} == {
        ANA: ("open", "ben", []),
        BEN: ("resolved", None, []),
        CARLA: ("open", None, ["vip"]),
        DORA: ("pending", None, []),
    }


def test_list_filters_stream_page_by_page(tmp_path: Path, db: Path) -> None:
    """Filtered listings page along the index like the plain one (here through `after=` pages of 1)."""
    team_world(db)
    script = (
        "import sys; from wa_inbox.cli import listings; listings.PAGE = 1; "
        "from wa_inbox.cli import main; sys.exit(main())"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "conversations",
            "list",
            "--assignee",
            "none",
            "--output",
            "json",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert [c["address"] for c in json.loads(result.stdout)] == [DORA, CARLA, BEN]


def test_list_tsv_and_csv_append_the_team_columns(tmp_path: Path, db: Path) -> None:
    team_world(db)
    with_store(db, lambda store: store.set_label(CARLA, "export", True, "ana"))

    for output, delimiter in (("tsv", "\t"), ("csv", ",")):
        result = cli(tmp_path, db, "conversations", "list", "--label", "vip", "--output", output)
        assert result.returncode == 0, result.stderr
        header, row = list(csv.reader(io.StringIO(result.stdout), delimiter=delimiter))
        assert header == [
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
        ]
        assert row[0] == CARLA and row[7:9] == ["open", ""]
        assert sorted(row[10].split(",")) == ["export", "vip"]


def test_unread_counts_are_the_agents(tmp_path: Path, db: Path) -> None:
    """ana read Ana's conversation, ben did not; an agent never seen counts anyone's unread."""
    unread = {
        agent: {c["address"]: c["unread_count"] for c in listed(tmp_path, db, "--agent", agent)}
        for agent in ("ana", "ben", "zoe")
    }

    assert unread["ana"] == {ANA: 0, BEN: 1, CARLA: 1}
    assert unread["ben"] == {ANA: 1, BEN: 1, CARLA: 1}
    assert unread["zoe"][BEN] == 1
    assert "zoe" not in agents(db)  # listing is reading: it records nobody


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--status", "closed"), ["--status 'closed' is not a conversation status"]),
        (("--assignee", "not a name"), ["--assignee 'not a name' is not an agent name"]),
        (("--agent", "-x"), ["--agent '-x' is not an agent name"]),
    ],
)
def test_list_bad_filter_is_one_sentence_and_exit_2(
    tmp_path: Path, db: Path, args: tuple[str, ...], fragments: list[str]
) -> None:
    assert_one_line_error(cli(tmp_path, db, "conversations", "list", *args), 2, *fragments)


# --- notes -----------------------------------------------------------------------------------------


def test_notes_add_and_list(tmp_path: Path, db: Path) -> None:
    first = ok(
        cli(
            tmp_path,
            db,
            "notes",
            "add",
            "+5511987654321",
            "Called her, @ben takes it",
            "--agent",
            "ana",
            "--output",
            "json",
        )
    )
    with_store(db, lambda store: store.assign(ANA, "ben", "ana"))  # not a note: not listed
    second = cli(tmp_path, db, "notes", "add", ANA, "Refund sent", "--agent", "ben")

    assert set(first) == NOTE_KEYS
    assert (first["author"], first["body"]) == ("ana", "Called her, @ben takes it")
    assert first["created_at"].endswith("Z")
    assert second.returncode == 0 and second.stdout.startswith("Note ")
    notes = ok(cli(tmp_path, db, "notes", "list", ANA, "--output", "json"))
    assert all(set(note) == NOTE_KEYS for note in notes)
    assert [(n["author"], n["body"]) for n in notes] == [
        ("ana", "Called her, @ben takes it"),
        ("ben", "Refund sent"),
    ]
    assert notes[0]["id"] == first["id"]
    table = cli(tmp_path, db, "notes", "list", ANA)
    assert table.stdout.splitlines()[0].split("\t") == ["id", "author", "created_at", "body"]


def test_a_note_is_never_sent(tmp_path: Path, db: Path) -> None:
    cli(tmp_path, db, "notes", "add", ANA, "internal only", "--agent", "ana")

    async def outbound(store: Store) -> list[Any]:
        return await store.list_messages(MessageQuery(direction=Direction.OUTBOUND))

    assert with_store(db, outbound) == []


def test_an_empty_note_is_one_sentence_and_exit_2(tmp_path: Path, db: Path) -> None:
    assert_one_line_error(cli(tmp_path, db, "notes", "add", ANA, "  "), 2, "The note is empty")


def test_notes_list_of_a_conversation_without_notes(tmp_path: Path, db: Path) -> None:
    assert ok(cli(tmp_path, db, "notes", "list", BEN, "--output", "json")) == []


# --- replies ---------------------------------------------------------------------------------------


def test_replies_add_list_replace_delete(tmp_path: Path, db: Path) -> None:
    added = cli(tmp_path, db, "replies", "add", "greeting", "Hi {name}, {agent} here!", "--agent", "ana")
    cli(tmp_path, db, "replies", "add", "bye", "Talk soon", "--agent", "ana")
    replaced = cli(tmp_path, db, "replies", "add", "greeting", "Hello {name}!", "--agent", "ben")

    assert added.stdout.strip() == "Saved reply greeting saved."
    assert replaced.stdout.strip() == "Saved reply greeting replaced."
    replies = ok(cli(tmp_path, db, "replies", "list", "--output", "json"))
    assert all(set(reply) == REPLY_KEYS for reply in replies)
    assert [(r["name"], r["body"], r["updated_by"]) for r in replies] == [
        ("bye", "Talk soon", "ana"),
        ("greeting", "Hello {name}!", "ben"),
    ]
    assert replies[0]["updated_at"].endswith("Z")

    deleted = cli(tmp_path, db, "replies", "delete", "bye")
    assert deleted.returncode == 0, deleted.stderr
    assert [r["name"] for r in ok(cli(tmp_path, db, "replies", "list", "--output", "json"))] == ["greeting"]
    assert_one_line_error(
        cli(tmp_path, db, "replies", "delete", "bye"), 2, "There is no saved reply named 'bye'"
    )


def test_replies_list_tsv(tmp_path: Path, db: Path) -> None:
    cli(tmp_path, db, "replies", "add", "greeting", "Hi {name}", "--agent", "ana")

    header, row = cli(tmp_path, db, "replies", "list").stdout.splitlines()

    assert header.split("\t") == ["name", "updated_by", "updated_at", "body"]
    assert row.split("\t")[::3] == ["greeting", "Hi {name}"]


@pytest.mark.parametrize(
    ("name", "text", "fragment"), [("", "x", "is not a saved reply's name"), ("hi", " ", "is empty")]
)
def test_a_bad_reply_is_one_sentence_and_exit_2(
    tmp_path: Path, db: Path, name: str, text: str, fragment: str
) -> None:
    assert_one_line_error(cli(tmp_path, db, "replies", "add", name, text), 2, fragment)
    assert with_store(db, lambda store: store.list_replies()) == []


# --- contacts --------------------------------------------------------------------------------------


def test_opt_out_and_in_by_hand_records_the_agent(tmp_path: Path, db: Path) -> None:
    out = ok(cli(tmp_path, db, "contacts", "opt-out", BEN, "--agent", "ana", "--output", "json"))

    assert set(out) == CONTACT_KEYS
    assert (out["opted_out"], out["opted_out_source"]) == (True, "agent ana")
    again = cli(tmp_path, db, "contacts", "opt-out", BEN, "--agent", "ana")
    assert again.returncode == 0 and again.stdout.strip() == "+34612345678 was opted out already."

    back = ok(cli(tmp_path, db, "contacts", "opt-in", BEN, "--agent", "ben", "--output", "json"))

    assert back["opted_out"] is False
    assert [(e["action"], e["source"]) for e in back["opt_history"]] == [
        ("stop", "agent ana"),
        ("start", "agent ben"),
    ]
    history = with_store(db, lambda store: store.opt_history(BEN))
    assert [(e.action, e.source) for e in history] == [("stop", "agent ana"), ("start", "agent ben")]
    listed_ben = next(c for c in listed(tmp_path, db) if c["address"] == BEN)
    assert listed_ben["opted_out"] is False


def test_opt_out_of_a_number_that_never_wrote(tmp_path: Path, db: Path) -> None:
    """A customer who asked by phone never to be messaged: their number is opted out before it writes."""
    result = cli(tmp_path, db, "contacts", "opt-out", NEVER, "--agent", "ana")

    assert result.returncode == 0, result.stderr
    contact = with_store(db, lambda store: store.get_contact("whatsapp:" + NEVER))
    assert contact is not None and contact.opted_out and contact.opted_out_source == "agent ana"


def test_contacts_show(tmp_path: Path, db: Path) -> None:
    team_world(db)
    cli(tmp_path, db, "contacts", "opt-out", CARLA, "--agent", "ben")

    shown = ok(cli(tmp_path, db, "contacts", "show", CARLA, "--output", "json"))

    assert set(shown) == CONTACT_KEYS
    assert (shown["address"], shown["opted_out"], shown["labels"], shown["assignee"]) == (
        CARLA,
        True,
        ["vip"],
        None,
    )
    assert shown["window_expires_at"] is not None
    assert [(e["action"], e["source"]) for e in shown["opt_history"]] == [("stop", "agent ben")]
    text = cli(tmp_path, db, "contacts", "show", CARLA).stdout
    assert "+4915112345678" in text and "vip" in text and "agent ben" in text


# --- who acted -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("conversations", "status", ANA, "pending"),
        ("conversations", "snooze", ANA, "--until", FUTURE),
        ("conversations", "label", ANA, "vip"),
        ("notes", "add", ANA, "hi"),
        ("replies", "add", "hi", "Hi!"),
        ("contacts", "opt-out", ANA),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_each_command_that_acts_records_the_agent(tmp_path: Path, db: Path, command: tuple[str, ...]) -> None:
    result = cli(tmp_path, db, *command, "--agent", "carol")

    assert result.returncode == 0, result.stderr
    assert "carol" in agents(db)


# --- author on messages ----------------------------------------------------------------------------


def test_messages_json_has_the_author(tmp_path: Path, db: Path) -> None:
    with_store(db, lambda store: store.queue_draft(Draft(ANA, "On its way!", author="ana"), "k1"))

    result = run(tmp_path, "messages", "list", "--output", "json", "--db", str(db))
    records = ok(result)

    assert all(set(r) == MESSAGE_KEYS for r in records)
    assert [(r["direction"], r["author"]) for r in records] == [
        ("out", "ana"),
        ("in", None),
        ("in", None),
        ("in", None),
    ]


async def test_send_records_the_agent_as_the_author(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ANA, "Meu pedido?")

        by_flag = await run_cli(
            world.settings, "send", "--to", ANA, "--body", "Já verifico!", "--agent", "ben"
        )
        by_setting = await run_cli(
            world.settings, "send", "--to", ANA, "--body", "Enviado!", env={"WA_INBOX_AGENT": "ana"}
        )
        listing = await run_cli(world.settings, "messages", "list", "--direction", "out", "--output", "json")

        assert by_flag.status == 0 and by_setting.status == 0, by_flag.stderr + by_setting.stderr
        assert [(m["body"], m["author"]) for m in json.loads(listing.stdout)] == [
            ("Enviado!", "ana"),
            ("Já verifico!", "ben"),
        ]
        assert {agent.name for agent in await world.store.list_agents()} >= {"ana", "ben"}
