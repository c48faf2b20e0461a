"""`messages list` and `conversations list` write their output a page at a time as they read it, in the
documented formats byte for byte (`rendering.render`), so that `--limit 0` of a year is a pipe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run
from tests.support.store import BEN, inbound
from wa_inbox.cli import listings, rendering
from wa_inbox.store import MessageQuery, Store, open_store

RECORDS: list[dict[str, Any]] = [
    {"sid": "SM1", "body": "olá\nsegunda linha\ttab", "media": [], "location": None, "referral": {}},
    {"sid": "SM2", "body": 'aspas " e vírgula,', "media": [{"url": "u", "content_type": "image/png"}]},
    {"sid": None, "body": "", "button": {"text": "Sim", "payload": None}, "opted_out": True},
    {"sid": "SM4", "body": "\u2028 e emoji 🎉", "error_code": 63016, "nested": {"a": [1, [2, {}]]}},
]
COLUMNS = ("sid", "body", "error_code", "opted_out")


@pytest.mark.parametrize("output", ["json", "tsv", "csv"])
@pytest.mark.parametrize("pages", [[], [[]], [RECORDS], [RECORDS[:1], [], RECORDS[1:3], RECORDS[3:]]])
def test_streamed_output_is_the_rendered_output_byte_for_byte(
    output: str, pages: list[list[dict[str, Any]]]
) -> None:
    written: list[str] = []
    out = rendering.RecordStream(COLUMNS, output, written.append)
    for page in pages:
        out.page(page)
    out.end()

    everything = [record for page in pages for record in page]
    assert "".join(written) == rendering.render(everything, COLUMNS, output) + "\n"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "inbox.db")
    for n in range(8):
        await inbound(opened, n, f"message {n}", address=BEN if n % 2 else "whatsapp:+5511987654321")
    yield opened
    await opened.close()


class Recorder:
    """The store's reads and the output's writes, in the order they happen."""

    def __init__(self, store: Store) -> None:
        self.events: list[str] = []
        self.written: list[str] = []
        self.store = store

    async def list_messages(self, query: MessageQuery) -> list[Any]:
        self.events.append("read")
        return await self.store.list_messages(query)

    async def list_conversations(self, limit: int | None = None, after: Any = None) -> list[Any]:
        self.events.append("read")
        return await self.store.list_conversations(limit=limit, after=after)

    def write(self, text: str) -> None:
        self.events.append("write")
        self.written.append(text)


async def test_messages_are_written_a_page_at_a_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listings, "PAGE", 3)
    recorder = Recorder(store)
    out = rendering.RecordStream(rendering.MESSAGE_COLUMNS, "json", recorder.write)

    await listings._local_records(recorder, MessageQuery(limit=0), out)  # type: ignore[arg-type]
    out.end()

    records = json.loads("".join(recorder.written))
    assert [r["body"] for r in records] == [f"message {n}" for n in range(7, -1, -1)]
    assert recorder.events.count("read") == 3  # pages of 3, 3 and 2
    assert recorder.events.index("write") < len(recorder.events) - 1 - recorder.events[::-1].index("read")
    assert len(recorder.written) == 4  # a write per page, then the closing bracket


async def test_a_limit_reads_no_further(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listings, "PAGE", 3)
    recorder = Recorder(store)
    out = rendering.RecordStream(rendering.MESSAGE_COLUMNS, "csv", recorder.write)

    await listings._local_records(recorder, MessageQuery(limit=5, from_addr=BEN), out)  # type: ignore[arg-type]

    lines = "".join(recorder.written).splitlines()
    assert lines[0] == ",".join(rendering.MESSAGE_COLUMNS)
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == [
        "message 7",
        "message 5",
        "message 3",
        "message 1",
    ]
    assert recorder.events.count("read") == 2  # 3, then the 2 still wanted (only 1 left)


async def test_conversations_are_written_a_page_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(8, 13):
        await inbound(store, n, f"message {n}", address=f"whatsapp:+3461234560{n - 8}")
    monkeypatch.setattr(listings, "PAGE", 2)
    recorder = Recorder(store)
    out = rendering.RecordStream(rendering.CONVERSATION_COLUMNS, "json", recorder.write)

    await listings._conversations(recorder, None, out)  # type: ignore[arg-type]
    out.end()

    listed = [c["address"] for c in json.loads("".join(recorder.written))]
    assert listed == [c.contact.address for c in await store.list_conversations()]
    assert len(listed) == 7
    assert recorder.events.count("read") == 4  # 2, 2, 2, 1


async def seed(path: Path, count: int, conversations: int = 1) -> None:
    async with open_store(path) as store:
        await asyncio.gather(
            *(
                inbound(store, n, f"message {n}", f"whatsapp:+346123456{n % conversations:02}")
                for n in range(count)
            )
        )


def test_limit_0_lists_every_message_past_a_page(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    asyncio.run(seed(db, listings.PAGE + 50))

    every = run(tmp_path, "messages", "list", "--limit", "0", "--output", "json", "--db", str(db))
    fifty = run(tmp_path, "messages", "list", "--output", "tsv", "--db", str(db))

    assert every.returncode == 0, every.stderr
    assert len({r["sid"] for r in json.loads(every.stdout)}) == listings.PAGE + 50
    assert len(fifty.stdout.splitlines()) == 1 + 50  # the default limit is still 50


def test_conversations_take_a_limit_and_a_relative_database_path(tmp_path: Path) -> None:
    asyncio.run(seed(tmp_path / "inbox.db", 3, conversations=3))

    result = run(tmp_path, "conversations", "list", "--limit", "1", "--output", "csv", "--db", "inbox.db")

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2  # the header and one conversation
