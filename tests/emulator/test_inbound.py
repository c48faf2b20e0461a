"""Customers writing in: signed webhooks with reference §1 parameters, and chatter."""

from __future__ import annotations

import pytest
from twilio.rest import Client

from tests.emulator.fakes import ACCOUNT_SID, CUSTOMER, SENDER, STATUS_URL, Receiver
from wa_inbox.emulator import Emulator

COMMON = {
    "MessageSid",
    "SmsSid",
    "SmsMessageSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "SmsStatus",
    "ApiVersion",
    "WaId",
    "MessageType",
    "ReferralNumMedia",
}


async def test_text_message_webhook(emulator: Emulator, receiver: Receiver) -> None:
    sid = await emulator.customer_says(CUSTOMER, "Oi, meu pedido não chegou", profile_name="Ana Silva")
    [hook] = receiver.of("/inbound")
    assert hook.valid and hook.params.keys() >= COMMON
    assert hook.params["MessageSid"] == hook.params["SmsSid"] == hook.params["SmsMessageSid"] == sid
    expected = {
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "To": SENDER,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "WaId": "5511987654321",
        "MessageType": "text",
        "ProfileName": "Ana Silva",
        "Body": "Oi, meu pedido não chegou",
    }
    assert expected.items() <= hook.params.items()
    assert hook.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "i-twilio-idempotency-token" in hook.headers


async def test_bare_number_is_accepted_and_bad_one_refused(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.customer_says("+5511987654321", "hi")
    assert receiver.of("/inbound")[0].params["From"] == CUSTOMER
    with pytest.raises(ValueError, match=r"E\.164"):
        await emulator.customer_says("whatsapp:+5511", "hi")


async def test_location_message(emulator: Emulator, receiver: Receiver) -> None:
    pin = {"latitude": -23.561414, "longitude": -46.655881, "address": "Av. Paulista, 1578", "label": "MASP"}
    await emulator.customer_says(CUSTOMER, location=pin)
    params = receiver.of("/inbound")[0].params
    assert (params["MessageType"], params["Latitude"], params["Longitude"]) == (
        "location",
        "-23.561414",
        "-46.655881",
    )
    assert (params["Address"], params["Label"], params["Body"]) == ("Av. Paulista, 1578", "MASP", "")


async def test_button_reply(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.customer_says(CUSTOMER, button=("Yes, confirm", "confirm_delivery"))
    params = receiver.of("/inbound")[0].params
    assert (params["MessageType"], params["Body"]) == ("button", "Yes, confirm")
    assert (params["ButtonText"], params["ButtonPayload"]) == ("Yes, confirm", "confirm_delivery")


async def test_click_to_whatsapp_referral(emulator: Emulator, receiver: Receiver) -> None:
    referral = {"source_type": "ad", "source_id": "120210000000000001", "ctwa_clid": "ARAkLkA8rml"}
    await emulator.customer_says(CUSTOMER, "I saw your ad", referral=referral)
    params = receiver.of("/inbound")[0].params
    assert params["ReferralSourceType"] == "ad" and params["ReferralCtwaClid"] == "ARAkLkA8rml"
    assert params["ReferralSourceId"] == "120210000000000001"


async def test_inbound_opens_the_window(twilio: Client, emulator: Emulator, receiver: Receiver) -> None:
    await emulator.customer_says(CUSTOMER, "hello?")
    reply = await twilio.messages.create_async(
        to=CUSTOMER, from_=SENDER, body="Hello!", status_callback=STATUS_URL
    )
    await emulator.wait_idle()
    assert "delivered" in receiver.statuses(reply.sid)


async def test_duplicate_inbound_webhooks(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.configure(duplicate_rate=1.0)
    sid = await emulator.customer_says(CUSTOMER, "hi")
    assert [h.params["MessageSid"] for h in receiver.of("/inbound")] == [sid, sid]


async def test_deliveries_record_what_the_receiver_answered(emulator: Emulator) -> None:
    await emulator.configure(inbound_url="http://receiver.test/nowhere")
    await emulator.customer_says(CUSTOMER, "hi")
    [delivery] = await emulator.deliveries()
    assert (delivery["kind"], delivery["status_code"]) == ("inbound", 404)


async def test_chatter_writes_realistic_signed_lines(emulator: Emulator, receiver: Receiver) -> None:
    await emulator.start_chatter(0.001)
    hooks = await receiver.wait_for("/inbound", 40)
    await emulator.stop_chatter()
    assert all(h.valid for h in hooks)
    assert len({h.params["From"] for h in hooks}) > 3
    kinds = {h.params["MessageType"] for h in hooks}
    assert "text" in kinds and len(kinds) >= 2
    assert all(h.params.get("ProfileName") for h in hooks)


async def test_chatter_needs_an_inbound_url(emulator: Emulator) -> None:
    await emulator.configure(inbound_url=None)
    with pytest.raises(RuntimeError, match="inbound_url"):
        await emulator.start_chatter(1.0)
