"""Inbound messages through a real uvicorn: every field Twilio sends is kept, once."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from tests.support.receiver import BUSINESS, CUSTOMER, INBOUND, SID, Receiver, text_form

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def test_text_message_is_stored_with_contact_and_window(receiver: Receiver) -> None:
    response = await receiver.post(INBOUND, text_form(SomeNewTwilioField="kept"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == TWIML
    message = await receiver.store.get_message(SID)
    assert message is not None
    assert (message.body, message.from_addr, message.to_addr) == (
        "Oi, meu pedido não chegou",
        CUSTOMER,
        BUSINESS,
    )
    contact = await receiver.store.get_contact(CUSTOMER)
    assert contact is not None
    assert (contact.profile_name, contact.wa_id) == ("Ana Silva", "5511987654321")
    assert contact.last_inbound_at is not None
    (raw,) = receiver.rows("SELECT raw_body FROM messages WHERE sid = ?", SID)
    assert parse_qs(raw[0])["SomeNewTwilioField"] == ["kept"]


async def test_image_with_caption_and_two_media(receiver: Receiver) -> None:
    sid = "MM0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    base = f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Messages/{sid}/Media/"
    form = text_form(
        sid,
        body="Foto da caixa",
        MessageType="image",
        NumMedia="2",
        MediaUrl0=base + "ME" + "a" * 32,
        MediaContentType0="image/jpeg",
        MediaUrl1=base + "ME" + "b" * 32,
        MediaContentType1="application/pdf",
        OriginalRepliedMessageSender=BUSINESS,
        OriginalRepliedMessageSid="SM" + "c" * 32,
    )

    assert (await receiver.post(INBOUND, form)).status_code == 200

    message = await receiver.store.get_message(sid)
    assert message is not None
    assert message.body == "Foto da caixa"
    assert [(m.index, m.content_type) for m in message.media] == [(0, "image/jpeg"), (1, "application/pdf")]
    assert message.media[1].url.endswith("ME" + "b" * 32)
    assert message.replied_to_sid == "SM" + "c" * 32


async def test_location(receiver: Receiver) -> None:
    form = text_form(
        body="",
        MessageType="location",
        Latitude="-23.561414",
        Longitude="-46.655881",
        Address="Av. Paulista, 1578",
        Label="MASP",
    )

    assert (await receiver.post(INBOUND, form)).status_code == 200

    message = await receiver.store.get_message(SID)
    assert message is not None and message.location is not None
    assert (message.location.latitude, message.location.longitude) == (-23.561414, -46.655881)
    assert (message.location.address, message.location.label) == ("Av. Paulista, 1578", "MASP")


async def test_button_reply(receiver: Receiver) -> None:
    form = text_form(
        body="Yes, confirm",
        MessageType="button",
        ButtonText="Yes, confirm",
        ButtonPayload="confirm_order_123",
    )

    assert (await receiver.post(INBOUND, form)).status_code == 200

    message = await receiver.store.get_message(SID)
    assert message is not None
    assert (message.button_text, message.button_payload) == ("Yes, confirm", "confirm_order_123")


async def test_click_to_whatsapp_referral(receiver: Receiver) -> None:
    referral = {
        "ReferralSourceType": "ad",
        "ReferralSourceId": "120210000000000001",
        "ReferralSourceUrl": "https://fb.me/xyz",
        "ReferralHeadline": "Summer sale",
        "ReferralBody": "20% off",
        "ReferralCtwaClid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4",
    }

    assert (await receiver.post(INBOUND, text_form(**referral))).status_code == 200

    message = await receiver.store.get_message(SID)
    assert message is not None
    assert {k: v for k, v in message.referral.items() if k != "ReferralNumMedia"} == referral


async def test_stop_then_start_flips_flag_audits_and_queues_one_confirmation_each(
    receiver: Receiver,
) -> None:
    await receiver.post(INBOUND, text_form("SM" + "1" * 32, body="  Stop "))
    await receiver.post(INBOUND, text_form("SM" + "1" * 32, body="  Stop "))  # Twilio's retry

    contact = await receiver.store.get_contact(CUSTOMER)
    assert contact is not None and contact.opted_out
    assert contact.opted_out_at is not None

    await receiver.post(INBOUND, text_form("SM" + "2" * 32, body="START"))

    contact = await receiver.store.get_contact(CUSTOMER)
    assert contact is not None and not contact.opted_out
    audit = receiver.rows("SELECT action, message_sid FROM opt_events ORDER BY id")
    assert audit == [("stop", "SM" + "1" * 32), ("start", "SM" + "2" * 32)]
    pending = receiver.rows(
        "SELECT body, to_addr FROM messages WHERE direction = 'out' AND status = 'pending' ORDER BY id"
    )
    assert pending == [
        ("You are opted out. Reply START to re-subscribe.", CUSTOMER),
        ("You are subscribed again. Reply STOP to opt out.", CUSTOMER),
    ]


async def test_same_webhook_three_times_at_once_gives_one_row(receiver: Receiver) -> None:
    forms = [text_form("SM" + f"{i:032x}", body=f"message {i}") for i in range(20)]

    responses = await asyncio.gather(*(receiver.post(INBOUND, form) for form in forms for _ in range(3)))

    assert [r.status_code for r in responses] == [200] * 60
    assert receiver.rows("SELECT COUNT(*), COUNT(DISTINCT sid) FROM messages") == [(20, 20)]
    verdicts = receiver.rows("SELECT verdict, COUNT(*) FROM webhook_log GROUP BY verdict ORDER BY verdict")
    assert verdicts == [("accepted", 20), ("duplicate", 40)]
