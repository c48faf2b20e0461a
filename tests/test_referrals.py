"""Ad referrals end to end: the emulator's webhook, our store and `messages list --output json`.

Twilio sends `ReferralNumMedia=0` on every WhatsApp inbound (the emulator does too); only a message
with a source (id, URL, body or headline) came from an ad.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.world import eventually, running_world
from wa_inbox.testing import EmulatedInbox

ANA = "whatsapp:+5511987654321"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


async def customer_writes(world: EmulatedInbox, referral: dict[str, Any] | None = None) -> str:
    sid = await world.emulator.customer_says(ANA, "Oi", referral=referral)
    await eventually(lambda: world.store.get_message(sid), lambda message: message is not None)
    return sid


async def listed_referral(world: EmulatedInbox, sid: str) -> Any:
    run = await run_cli(world.settings, "messages", "list", "--output", "json")
    assert run.status == 0, run.stderr
    (record,) = [r for r in json.loads(run.stdout) if r["sid"] == sid]
    return record["referral"]


async def test_a_plain_message_has_no_referral(world: EmulatedInbox) -> None:
    sid = await customer_writes(world)

    (delivery,) = await world.emulator.deliveries()
    assert delivery["params"]["ReferralNumMedia"] == "0"  # sent, as Twilio sends it
    message = await world.store.get_message(sid)
    assert message is not None and message.referral == {}
    assert await listed_referral(world, sid) is None


async def test_a_message_from_an_ad_keeps_its_referral(world: EmulatedInbox) -> None:
    sid = await customer_writes(world, {"source_url": "https://fb.me/xyz", "source_type": "ad"})

    expected = {"ReferralNumMedia": "0", "ReferralSourceUrl": "https://fb.me/xyz", "ReferralSourceType": "ad"}
    message = await world.store.get_message(sid)
    assert message is not None and dict(message.referral) == expected
    assert await listed_referral(world, sid) == expected
