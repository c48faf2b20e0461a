"""twilio-cli's flags on `wa-inbox messages`: --date-sent (and -after/-before), --page-size, --properties,
and `fetch --remote`; the real console script, on a stored database and against the emulated Twilio."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Run, assert_one_line_error, run, run_cli
from tests.support.world import customer_writes, eventually, running_world
from tests.test_cli import MESSAGE_KEYS
from wa_inbox.cli.rendering import MESSAGE_PROPERTIES
from wa_inbox.domain.models import InboundMessage, Location, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.policy import Draft
from wa_inbox.store import open_store
from wa_inbox.testing import EmulatedInbox

BUSINESS = "whatsapp:+14155238886"
ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+34612345678"
JUNE_2 = datetime(2025, 6, 2, tzinfo=UTC)
ARRIVALS = {  # body: (customer, when it came in)
    "last microsecond of June 1": (ANA, JUNE_2 - timedelta(microseconds=1)),
    "midnight June 2": (BEN, JUNE_2),
    "noon June 2": (ANA, JUNE_2 + timedelta(hours=12)),
    "midnight June 3": (BEN, JUNE_2 + timedelta(days=1)),
}


async def seed(path: Path) -> None:
    async with open_store(path) as store:
        for n, (body, (address, at)) in enumerate(ARRIVALS.items()):
            sid = f"SM{n:032x}"
            record = WebhookRecord(WebhookKind.INBOUND, "/t", Verdict.ACCEPTED, "", {}, at, None, sid)
            where = Location(-23.55, -46.63, "Av. Paulista", "Loja") if body == "midnight June 3" else None
            await store.ingest_inbound(InboundMessage(sid, address, BUSINESS, body, location=where), record)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("days") / "inbox.db"
    asyncio.run(seed(path))
    return path


def bodies(tmp_path: Path, db: Path, *args: str) -> list[str]:
    result = run(tmp_path, "messages", "list", "--output", "json", "--db", str(db), *args)
    assert result.returncode == 0, result.stderr
    return [record["body"] for record in json.loads(result.stdout)]


# --- --date-sent, --date-sent-after, --date-sent-before -------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--date-sent", "2025-06-02"), ["noon June 2", "midnight June 2"]),
        (
            ("--date-sent-after", "2025-06-02"),
            ["midnight June 3", "noon June 2", "midnight June 2"],
        ),
        (
            ("--date-sent-before", "2025-06-02"),
            ["noon June 2", "midnight June 2", "last microsecond of June 1"],
        ),
        (
            ("--date-sent-after", "2025-06-02", "--date-sent-before", "2025-06-02"),
            ["noon June 2", "midnight June 2"],
        ),
        (("--date-sent-after", "2025-06-03", "--date-sent-before", "2025-06-01"), []),
        (("--date-sent", "2025-06-02", "--date-sent-after", "2025-06-03"), []),
        (("--date-sent-before", "2025-06-02", "--from", ANA), ["noon June 2", "last microsecond of June 1"]),
        (("--date-sent-after", "2025-06-02", "--limit", "1"), ["midnight June 3"]),
    ],
    ids=["day", "after", "before", "both-bounds-one-day", "empty", "day-and-after", "with-from", "limit"],
)
def test_days_in_utc_each_bound_including_its_day(
    tmp_path: Path, db: Path, args: tuple[str, ...], expected: list[str]
) -> None:
    assert bodies(tmp_path, db, *args) == expected


@pytest.mark.parametrize(
    ("option", "value"),
    [("--date-sent", "2025-13-01"), ("--date-sent-after", "02/06/2025"), ("--date-sent-before", "yesterday")],
)
def test_a_bad_day_is_one_sentence(tmp_path: Path, db: Path, option: str, value: str) -> None:
    result = run(tmp_path, "messages", "list", option, value, "--db", str(db))

    assert_one_line_error(result, 2, f"{option} '{value}' is not a day", "YYYY-MM-DD")


# --- --page-size ------------------------------------------------------------------------------------


def test_a_page_size_changes_the_reads_not_the_listing(tmp_path: Path, db: Path) -> None:
    whole = run(tmp_path, "messages", "list", "--limit", "0", "--db", str(db))
    paged = run(tmp_path, "messages", "list", "--limit", "0", "--page-size", "1", "--db", str(db))
    by_day = run(
        tmp_path, "messages", "list", "--date-sent-before", "2025-06-03", "--page-size", "2", "--db", str(db)
    )

    assert whole.returncode == paged.returncode == by_day.returncode == 0, paged.stderr + by_day.stderr
    assert paged.stdout == whole.stdout and len(whole.stdout.splitlines()) == 5
    assert [row.rsplit("\t", 1)[1] for row in by_day.stdout.splitlines()[1:]] == list(reversed(ARRIVALS))


@pytest.mark.parametrize("value", ["0", "1001", "abc", "-5"])
def test_a_bad_page_size_is_one_sentence(tmp_path: Path, db: Path, value: str) -> None:
    result = run(tmp_path, "messages", "list", "--page-size", value, "--db", str(db))

    assert_one_line_error(result, 2, f"--page-size '{value}' is not a number from 1 to 1000")


# --- --properties ------------------------------------------------------------------------------------


def test_properties_are_the_columns_of_a_table_in_their_order(tmp_path: Path, db: Path) -> None:
    for output, delimiter in (("tsv", "\t"), ("csv", ",")):
        result = run(
            tmp_path,
            "messages",
            "list",
            "--properties",
            "status, sid,body",
            "--output",
            output,
            "--db",
            str(db),
        )
        assert result.returncode == 0, result.stderr
        header, *rows = list(csv.reader(io.StringIO(result.stdout), delimiter=delimiter))
        assert header == ["status", "sid", "body"]
        assert rows[0] == ["received", f"SM{3:032x}", "midnight June 3"]
        assert len(rows) == 4


def test_properties_are_the_keys_of_json_and_take_twilio_clis_camel_case(tmp_path: Path, db: Path) -> None:
    result = run(
        tmp_path, "messages", "list", "--properties", "sid,errorCode,media,createdAt", "--output", "json",
        "--db", str(db),
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    assert [list(record) for record in records] == [["sid", "error_code", "media", "created_at"]] * 4
    assert records[-1] == {
        "sid": f"SM{0:032x}",
        "error_code": None,
        "media": [],
        "created_at": "2025-06-01T23:59:59.999999Z",
    }


def test_a_nested_property_is_one_json_cell_in_a_table(tmp_path: Path, db: Path) -> None:
    result = run(tmp_path, "messages", "list", "--properties", "sid,media,location", "--db", str(db))

    assert result.returncode == 0, result.stderr
    _, first, *_ = csv.reader(io.StringIO(result.stdout), delimiter="\t")  # quoted as csv quotes
    assert first[:2] == [f"SM{3:032x}", ""]  # no media: an empty cell, as for no labels
    assert json.loads(first[2]) == {
        "latitude": -23.55,
        "longitude": -46.63,
        "address": "Av. Paulista",
        "label": "Loja",
    }


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("sid,phone", "'phone' is not a property"), (" , ", "--properties names no property")],
)
def test_an_unknown_property_is_one_sentence_naming_the_known_ones(
    tmp_path: Path, db: Path, value: str, fragment: str
) -> None:
    result = run(tmp_path, "messages", "list", "--properties", value, "--db", str(db))

    assert_one_line_error(result, 2, fragment, ", ".join(MESSAGE_PROPERTIES))


def test_the_properties_are_every_key_of_a_record() -> None:
    assert set(MESSAGE_PROPERTIES) == MESSAGE_KEYS


# --- against Twilio (the emulator) ------------------------------------------------------------------


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


async def wa_inbox(world: EmulatedInbox, *args: str) -> Run:
    return await run_cli(world.settings, *args)


async def conversation(world: EmulatedInbox) -> list[str]:
    """Ana writes, we answer; the two SIDs, once Twilio has both."""
    assert world.outbox is not None
    await customer_writes(world, ANA, "Oi")
    message_id = await world.outbox.submit(Draft(ANA, "Olá Ana"))
    await eventually(lambda: world.store.get_message_by_id(message_id), lambda m: m is not None and m.sid)
    return list(world.emulator.world.messages)


async def test_remote_days_are_asked_of_twilio(world: EmulatedInbox) -> None:
    sids = await conversation(world)
    today = datetime.now(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()

    async def remote(*args: str) -> set[str]:
        result = await wa_inbox(world, "messages", "list", "--remote", "--output", "json", *args)
        assert result.status == 0, result.stderr
        return {record["sid"] for record in json.loads(result.stdout)}

    assert await remote("--date-sent", today.isoformat()) == set(sids)
    assert await remote("--date-sent-after", yesterday) == set(sids)
    assert await remote("--date-sent-before", yesterday) == set()
    assert await remote("--date-sent", yesterday) == set()
    asked = [a for a in world.emulator.answered if a.method == "GET" and a.path.endswith("/Messages.json")]
    assert len(asked) == 4 and {a.status for a in asked} == {200}


async def test_remote_pages_and_properties(world: EmulatedInbox) -> None:
    sids = await conversation(world)
    before = len(world.emulator.answered)

    result = await wa_inbox(
        world, "messages", "list", "--remote", "--limit", "0", "--page-size", "1",
        "--properties", "sid,direction", "--output", "json",
    )  # fmt: skip

    assert result.status == 0, result.stderr
    records = json.loads(result.stdout)
    assert sorted(records, key=lambda r: r["direction"]) == [
        {"sid": sids[0], "direction": "in"},
        {"sid": sids[1], "direction": "out"},
    ]
    pages = [a for a in list(world.emulator.answered)[before:] if a.path.endswith("/Messages.json")]
    assert len(pages) == 2  # one message a page


async def test_fetch_remote_prints_what_twilio_has_as_the_local_fetch_does(world: EmulatedInbox) -> None:
    inbound_sid, outbound_sid = await conversation(world)

    for sid in (inbound_sid, outbound_sid):
        remote = await wa_inbox(world, "messages", "fetch", sid, "--remote")
        local = await wa_inbox(world, "messages", "fetch", sid)
        assert remote.status == local.status == 0, remote.stderr + local.stderr
        fetched, stored = json.loads(remote.stdout), json.loads(local.stdout)
        assert set(fetched) == set(stored) == MESSAGE_KEYS
        same = ("sid", "direction", "contact", "from", "to", "body")
        assert {key: fetched[key] for key in same} == {key: stored[key] for key in same}
    fetches = [
        a for a in world.emulator.answered if a.method == "GET" and a.path.endswith(f"/{outbound_sid}.json")
    ]
    assert [a.status for a in fetches] == [200]

    table = await wa_inbox(world, "messages", "fetch", outbound_sid, "--remote", "--output", "tsv")
    assert table.status == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split("\t")[0] == "sid" and row.split("\t")[:3] == [outbound_sid, "out", ANA]


async def test_fetch_remote_of_an_unknown_or_malformed_sid_is_one_sentence(world: EmulatedInbox) -> None:
    unknown = "SM" + "0" * 32
    missing = await wa_inbox(world, "messages", "fetch", unknown, "--remote")
    malformed = await wa_inbox(world, "messages", "fetch", "SM../../Calls", "--remote")

    assert missing.status == 1 and missing.stdout == ""
    assert missing.stderr.splitlines() == [f"wa-inbox: no message with SID {unknown} at Twilio."]
    assert malformed.status == 2 and malformed.stdout == ""
    (line,) = malformed.stderr.splitlines()
    assert line.startswith("wa-inbox: 'SM../../Calls' is not a message SID")
    assert [a.status for a in world.emulator.answered if a.path.endswith(f"/{unknown}.json")] == [404]
