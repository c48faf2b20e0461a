"""`messages list --output json` is valid JSON even for a coordinate stored before the receiver refused
non-finite ones (JSON has no Infinity or NaN)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from tests.support.cli import run
from wa_inbox.domain.models import InboundMessage, Location, Verdict, WebhookKind, WebhookRecord
from wa_inbox.store.sqlite import SqliteStore


async def store_location(path: Path, latitude: float, longitude: float) -> None:
    store = await SqliteStore.open(path)
    try:
        message = InboundMessage(
            "SM" + "1" * 32,
            "whatsapp:+5511987654321",
            "whatsapp:+14155238886",
            "",
            location=Location(latitude, longitude),
        )
        record = WebhookRecord(
            WebhookKind.INBOUND, "/twilio/inbound", Verdict.ACCEPTED, "", {}, datetime.now(UTC)
        )
        await store.ingest_inbound(message, record)
    finally:
        await store.close()


def refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_an_infinite_coordinate_lists_as_null(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    asyncio.run(store_location(db, float("inf"), -46.63))

    result = run(tmp_path, "messages", "list", "--output", "json", WA_INBOX_DB=str(db))

    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout, parse_constant=refuse_constant)
    assert record["location"]["latitude"] is None
    assert record["location"]["longitude"] == -46.63
