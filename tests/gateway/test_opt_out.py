"""STOP: exactly one confirmation, the only message an opted-out customer ever gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.domain.policy import Draft
from wa_inbox.testing import EmulatedInbox

ANA = "whatsapp:+5511987654321"
STOP_REPLY = "You are opted out. Reply START to re-subscribe."
START_REPLY = "You are subscribed again. Reply STOP to opt out."


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


async def bodies_sent(world: EmulatedInbox) -> list[str]:
    return [entry["params"].get("Body", "") for entry in await world.emulator.sent()]


async def test_stop_delivered_twice_gives_exactly_one_confirmation(world: EmulatedInbox) -> None:
    await world.emulator.configure(duplicate_rate=1.0)  # Twilio delivers the webhook twice

    await customer_writes(world, ANA, "STOP")

    await eventually(lambda: bodies_sent(world), lambda bodies: bodies == [STOP_REPLY])
    await world.emulator.wait_idle()
    assert await bodies_sent(world) == [STOP_REPLY]


async def test_start_reopens_and_confirms(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA, "stop")
    await eventually(lambda: bodies_sent(world), lambda bodies: len(bodies) == 1)

    await customer_writes(world, ANA, "START")

    await eventually(lambda: bodies_sent(world), lambda bodies: bodies == [STOP_REPLY, START_REPLY])
    assert world.outbox is not None
    await world.outbox.submit(Draft(ANA, "Welcome back"))
    await eventually(lambda: bodies_sent(world), lambda bodies: bodies[-1] == "Welcome back")


async def test_stop_after_a_reply_was_queued_stops_that_reply(tmp_path: Path) -> None:
    async with running_world(tmp_path, concurrency=1, rate_per_second=1.0) as world:
        assert world.outbox is not None
        await customer_writes(world, ANA)
        first = await world.outbox.submit(Draft(ANA, "one"))
        second = await world.outbox.submit(Draft(ANA, "two"))  # waits a second for the rate limit
        await customer_writes(world, ANA, "STOP")

        message = await eventually(
            lambda: world.store.get_message_by_id(second), lambda m: m is not None and m.status == "failed"
        )
        assert message is not None and "opted out" in (message.error_message or "")
        assert (await world.store.get_message_by_id(first)) is not None
        assert "two" not in await bodies_sent(world)
