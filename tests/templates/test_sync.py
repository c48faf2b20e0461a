"""Templates synced from the Content API at start-up, and again when a template send fails over them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.world import customer_writes, eventually, quick, running_world
from wa_inbox.domain.models import Message
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"
SHIPPED = BY_NAME["order_shipped"]
SHIPPED_DRAFT = Draft(ANA, content_sid=SHIPPED.sid, content_variables={"1": "Ana", "2": "#7"})


async def synced(world: EmulatedInbox) -> dict[str, TemplateInfo]:
    stored = await eventually(world.store.list_templates, bool)
    return {template.name: template for template in stored}


async def approval_becomes(world: EmulatedInbox, name: str, approval: str) -> None:
    await eventually(
        world.store.list_templates,
        lambda stored: any(t.name == name and t.approval == approval for t in stored),
    )


async def failed(world: EmulatedInbox, message_id: int) -> Message:
    message = await eventually(
        lambda: world.store.get_message_by_id(message_id), lambda m: m is not None and m.status == "failed"
    )
    assert message is not None
    return message


async def test_start_up_stores_every_template_and_whatsapp_s_verdict(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        stored = await synced(world)
    assert set(stored) == set(BY_NAME)
    shipped = stored["order_shipped"]
    assert (shipped.sid, shipped.language, shipped.kind) == (SHIPPED.sid, "en", "twilio/text")
    assert (shipped.approval, shipped.category) == ("approved", "UTILITY")
    assert shipped.variables == SHIPPED.variables
    assert shipped.synced_at is not None
    assert (stored["winback_discount"].rejection_reason or "").startswith("INCORRECT_CATEGORY")
    assert stored["delivery_slot_confirm"].actions == ("Yes, confirm", "Reschedule", "Talk to an agent")
    assert stored["spring_sale"].media == ("https://cdn.example.com/promo/spring-sale.jpg",)
    assert stored["track_order"].types == BY_NAME["track_order"].types
    card = stored["new_arrivals_card"]
    assert (card.approval, card.category) == ("unsubmitted", None)


async def test_a_template_the_api_refuses_resyncs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "wa_inbox.gateway.template_sync")
    async with running_world(tmp_path) as world:
        assert world.outbox is not None
        assert (await synced(world))["order_shipped"].approval == "approved"
        await customer_writes(world, ANA)
        await world.emulator.judge_template("order_shipped", "paused")  # our copy is now stale
        await world.emulator.fail_next(21656, via="api")

        message = await failed(world, await world.outbox.submit(SHIPPED_DRAFT))
        await approval_becomes(world, "order_shipped", "paused")
    assert (message.sid, message.error_code) == (None, 21656)
    assert "templates re-synced after error 21656" in caplog.text


async def test_a_template_failed_by_status_callback_resyncs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben never wrote, so only an approved template reaches him; Twilio's copy was paused meanwhile."""
    caplog.set_level(logging.WARNING, "wa_inbox.gateway.template_sync")
    async with running_world(tmp_path) as world:
        assert world.outbox is not None
        await synced(world)
        await world.emulator.judge_template("order_shipped", "paused")

        draft = Draft(BEN, content_sid=SHIPPED.sid, content_variables={"1": "Ben", "2": "#8"})
        message = await failed(world, await world.outbox.submit(draft))
        await approval_becomes(world, "order_shipped", "paused")
    assert message.sid is not None and message.error_code == 63016  # Twilio took it, then it failed
    assert "templates re-synced after error 63016" in caplog.text


@pytest.mark.parametrize(
    ("draft", "code", "reported"),
    [
        (SHIPPED_DRAFT, 21656, [21656]),
        (Draft(ANA, "Hello"), 63016, []),  # a template problem, but no template was sent
        (SHIPPED_DRAFT, 21211, []),  # a template was sent, but the number was the problem
    ],
)
async def test_the_sender_reports_template_problems_of_templates_only(
    tmp_path: Path, draft: Draft, code: int, reported: list[int]
) -> None:
    got: list[int] = []

    async def report(code: int) -> None:
        got.append(code)

    async with emulated_inbox(tmp_path / "inbox.db", quick, send=False) as world:
        await customer_writes(world, ANA)
        client = make_twilio_client(world.settings)
        try:
            outbox = Outbox(world.settings, world.store, client, on_template_error=report)
            await world.emulator.fail_next(code, via="api")
            await outbox.send_now(await outbox.submit(draft))
        finally:
            await client.http_client.close()  # type: ignore[attr-defined]
    assert got == reported
