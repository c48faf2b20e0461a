"""Refusals are logged with their reason: when the agent submits, and when the sender re-checks a queued
message at send time (the customer may have opted out meanwhile)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.submission import Refused
from wa_inbox.testing import EmulatedInbox

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "wa_inbox.gateway.submission"]


async def test_a_refused_submit_is_logged_with_its_reason(
    world: EmulatedInbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert world.outbox is not None
    caplog.set_level(logging.INFO, "wa_inbox")
    await customer_writes(world, ANA, "STOP")

    with pytest.raises(Refused) as refused:
        await world.outbox.submit(Draft(ANA, "Oi?"))

    (record,) = refusals(caplog)
    assert record.levelname == "INFO"  # a command's one sentence stays alone on its terminal
    assert record.refusal == "opt_out"  # type: ignore[attr-defined]
    assert record.getMessage() == f"refused a message to {ANA} (opt_out): {refused.value}"


async def test_a_queued_message_refused_at_send_time_is_logged_with_its_id(
    world: EmulatedInbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "wa_inbox")
    message_id = await world.store.queue_draft(Draft(BEN, "queued past the policy"), "k1")
    assert message_id is not None

    failed = await eventually(
        lambda: world.store.get_message_by_id(message_id), lambda m: m is not None and m.status == "failed"
    )

    (record,) = refusals(caplog)
    assert (record.refusal, record.message_id) == ("window", message_id)  # type: ignore[attr-defined]
    assert record.getMessage().startswith(f"refused message {message_id} to {BEN} (window): Not sent:")
    assert failed is not None and failed.error_message in record.getMessage()
    assert await world.emulator.sent() == []
