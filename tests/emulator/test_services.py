"""The Messaging Services API (a service's webhooks) and WhatsApp changing its verdict on a template."""

from __future__ import annotations

import json

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.fakes import (
    ACCOUNT_SID,
    CUSTOMER,
    RECEIVER_URL,
    SERVICE_SID,
    STATUS_URL,
    Receiver,
    make_config,
)
from wa_inbox.emulator import BY_NAME, Emulator, EmulatorConfig


@pytest.fixture
def config() -> EmulatorConfig:
    return make_config(status_callback_url=STATUS_URL)


async def test_a_service_starts_with_the_configured_webhooks(twilio: Client) -> None:
    service = await twilio.messaging.v1.services(SERVICE_SID).fetch_async()
    assert (service.sid, service.account_sid) == (SERVICE_SID, ACCOUNT_SID)
    assert (service.inbound_request_url, service.inbound_method) == (f"{RECEIVER_URL}/inbound", "POST")
    assert (service.status_callback, service.use_inbound_webhook_on_number) == (STATUS_URL, False)
    assert service.date_updated is not None


async def test_update_changes_and_clears_webhooks(twilio: Client) -> None:
    elsewhere = "https://elsewhere.example.com/in"
    updated = await twilio.messaging.v1.services(SERVICE_SID).update_async(
        inbound_request_url=elsewhere, inbound_method="GET", status_callback=""
    )
    assert (updated.inbound_request_url, updated.inbound_method) == (elsewhere, "GET")
    assert updated.status_callback is None
    again = await twilio.messaging.v1.services(SERVICE_SID).fetch_async()
    assert again.inbound_request_url == elsewhere


async def test_bad_method_and_unknown_service(twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as bad:
        await twilio.messaging.v1.services(SERVICE_SID).update_async(inbound_method="PUT")
    assert (bad.value.status, bad.value.code) == (400, 20001)
    with pytest.raises(TwilioRestException) as missing:
        await twilio.messaging.v1.services("MG-not-a-sid").fetch_async()
    assert (missing.value.status, missing.value.code) == (404, 20404)


async def test_a_send_without_status_callback_uses_the_service_s(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    message = await twilio.messages.create_async(
        to=customer_in_window, messaging_service_sid=SERVICE_SID, body="Hi"
    )
    await emulator.wait_idle()
    assert receiver.statuses(message.sid)[-1] == "read"


async def test_a_paused_template_shows_and_no_longer_goes_outside_the_window(
    twilio: Client, emulator: Emulator, receiver: Receiver
) -> None:
    shipped = BY_NAME["order_shipped"]
    await emulator.judge_template("order_shipped", "paused")
    approval = await twilio.content.v1.contents(shipped.sid).approval_fetch().fetch_async()
    assert approval.whatsapp["status"] == "paused"

    message = await twilio.messages.create_async(
        to=CUSTOMER,
        messaging_service_sid=SERVICE_SID,
        content_sid=shipped.sid,
        content_variables=json.dumps({"1": "Ana", "2": "#1"}),
    )
    await emulator.wait_idle()
    last = receiver.callbacks(message.sid)[-1]
    assert (last.params["MessageStatus"], last.params["ErrorCode"]) == ("failed", "63016")
