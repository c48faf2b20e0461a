"""The outbox against the emulator: policy first, safe retries, and never a blind double send."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.support.world import customer_writes, eventually, quick, running_world
from wa_inbox.config import Settings
from wa_inbox.domain.models import Message
from wa_inbox.domain.policy import Attachment, Draft
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.gateway.submission import Refused
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


async def settled(world: EmulatedInbox, message_id: int, status: str) -> Message:
    async def probe() -> Message | None:
        return await world.store.get_message_by_id(message_id)

    message = await eventually(probe, lambda m: m is not None and m.status == status)
    assert message is not None
    return message


def statuses_heard(world: EmulatedInbox, sid: str) -> list[str]:
    """Status callbacks the receiver committed for `sid`, in arrival order."""
    with sqlite3.connect(world.settings.store.path) as conn:
        rows = conn.execute("SELECT status FROM status_events WHERE message_sid = ? ORDER BY id", (sid,))
        return [status for (status,) in rows]


async def test_session_text_goes_queued_sent_delivered_read(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA)

    message_id = await world.outbox.submit(Draft(ANA, "Olá Ana, já verifiquei."))

    message = await settled(world, message_id, "read")
    assert message.sid is not None and message.sid.startswith("SM")
    (sent,) = await world.emulator.sent()
    assert sent["params"]["Body"] == "Olá Ana, já verifiquei."
    assert sent["params"]["StatusCallback"] == world.receiver_url + "/twilio/status"
    assert sent["params"]["MessagingServiceSid"] == world.settings.twilio.messaging_service_sid
    assert statuses_heard(world, message.sid) == ["queued", "sent", "delivered", "read"]


async def test_template_with_variables_outside_the_window(world: EmulatedInbox) -> None:
    template = BY_NAME["order_shipped"]

    message_id = await world.outbox.submit(
        Draft(BEN, content_sid=template.sid, content_variables={"1": "Ben", "2": "#123"})
    )

    await settled(world, message_id, "read")
    (sent,) = await world.emulator.sent()
    assert sent["params"]["ContentSid"] == template.sid
    assert json.loads(sent["params"]["ContentVariables"]) == {"1": "Ben", "2": "#123"}
    assert "Body" not in sent["params"]


async def test_media_with_caption(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA)
    photo = Attachment("https://cdn.example.com/box.jpg", "image/jpeg", 120_000)

    message_id = await world.outbox.submit(Draft(ANA, "Sua caixa", (photo,)))

    await settled(world, message_id, "read")
    (sent,) = await world.emulator.sent()
    assert sent["params"]["MediaUrl"] == ["https://cdn.example.com/box.jpg"]
    assert sent["params"]["Body"] == "Sua caixa"


async def test_429_twice_then_success_sends_exactly_one(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA)
    await world.emulator.fail_next(20429, times=2)

    message_id = await world.outbox.submit(Draft(ANA, "Third time lucky"))

    await settled(world, message_id, "read")
    outcomes = [entry["outcome"] for entry in await world.emulator.sent()]
    assert [o["status"] for o in outcomes] == [429, 429, 201]
    assert len(await world.emulator.sent()) == 3


async def test_invalid_number_is_not_retried(world: EmulatedInbox) -> None:
    await world.emulator.fail_next(21211)
    template = BY_NAME["order_shipped"]

    message_id = await world.outbox.submit(Draft(BEN, content_sid=template.sid))

    message = await settled(world, message_id, "failed")
    assert message.error_code == 21211
    assert message.error_message == "The 'To' number is not a valid phone number."
    assert len(await world.emulator.sent()) == 1


async def test_session_text_outside_the_window_is_refused_before_any_request(world: EmulatedInbox) -> None:
    with pytest.raises(Refused, match="only an approved template"):
        await world.outbox.submit(Draft(BEN, "Hello?"))

    assert await world.emulator.sent() == []


async def test_anything_to_an_opted_out_customer_is_refused(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA, "STOP")
    await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 1)  # the confirmation

    for draft in (Draft(ANA, "Are you sure?"), Draft(ANA, content_sid=BY_NAME["order_shipped"].sid)):
        with pytest.raises(Refused, match=r"opted out .* by sending STOP"):
            await world.outbox.submit(draft)
    assert len(await world.emulator.sent()) == 1


async def test_routing_picks_the_messaging_service_by_country(tmp_path: Path) -> None:
    brazil, default = "MG" + "b" * 32, "MG" + "f" * 32

    def routed(settings: Settings) -> Settings:
        return quick(settings).model_copy(update={"routing": {"BR": brazil, "default": default}})

    async with emulated_inbox(tmp_path / "inbox.db", routed, status_delay=(0, 0.01)) as world:
        assert world.outbox is not None
        template = BY_NAME["order_shipped"].sid
        await world.outbox.submit(Draft(ANA, content_sid=template))
        await world.outbox.submit(Draft(BEN, content_sid=template))
        sent = await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 2)

    services = {entry["params"]["To"]: entry["params"]["MessagingServiceSid"] for entry in sent}
    assert services == {ANA: brazil, BEN: default}


async def test_api_key_is_used_when_configured(tmp_path: Path) -> None:
    key_sid, key_secret = "SK" + "5" * 32, "api-key-secret-value"

    def with_api_key(settings: Settings) -> Settings:
        twilio = settings.twilio.model_copy(
            update={"api_key_sid": key_sid, "api_key_secret": SecretStr(key_secret), "auth_token": None}
        )
        return quick(settings).model_copy(update={"twilio": twilio})

    async with emulated_inbox(
        tmp_path / "inbox.db", with_api_key, api_key_sid=key_sid, api_key_secret=key_secret
    ) as world:
        assert world.outbox is not None
        await world.outbox.submit(Draft(BEN, content_sid=BY_NAME["order_shipped"].sid))
        (sent,) = await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 1)

    assert sent["auth_user"] == key_sid
    assert sent["outcome"]["status"] == 201
