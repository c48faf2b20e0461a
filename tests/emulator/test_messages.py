"""Creating messages through the real SDK: validation, status callbacks, windows, failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.fakes import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    CUSTOMER,
    SENDER,
    SERVICE_SID,
    STATUS_URL,
    HttpxTwilioClient,
    Receiver,
)
from wa_inbox.emulator import BY_NAME, Emulator

CALLBACK_KEYS = {
    "MessageSid",
    "SmsSid",
    "SmsStatus",
    "MessageStatus",
    "AccountSid",
    "From",
    "To",
    "ApiVersion",
    "ChannelPrefix",
    "ChannelToAddress",
    "ChannelInstallSid",
}
SHIPPED = BY_NAME["order_shipped"].sid


async def send(twilio: Client, **kwargs: object) -> str:
    params = {"to": CUSTOMER, "from_": SENDER, "status_callback": STATUS_URL} | kwargs
    message = await twilio.messages.create_async(**params)
    return message.sid


async def rejected(twilio: Client, **kwargs: object) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await send(twilio, **kwargs)
    return caught.value


async def test_session_message_walks_queued_sent_delivered_read(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    created = await twilio.messages.create_async(
        to=customer_in_window, from_=SENDER, body="Yes! It ships today.", status_callback=STATUS_URL
    )
    assert created.status == "queued" and created.direction == "outbound-api"
    assert created.sid.startswith("SM") and len(created.sid) == 34
    await emulator.wait_idle()
    assert receiver.statuses(created.sid) == ["queued", "sent", "delivered", "read"]
    hooks = receiver.of("/status")
    assert all(h.valid for h in hooks)
    assert all(h.params.keys() >= CALLBACK_KEYS and "ErrorCode" not in h.params for h in hooks)
    assert [h.params.get("EventType") for h in hooks] == [None, None, "DELIVERED", "READ"]
    assert hooks[0].params["ChannelToAddress"] == "+5511987654321"
    fetched = await twilio.messages(created.sid).fetch_async()
    assert fetched.status == "read" and fetched.date_sent is not None and fetched.price


async def test_messaging_service_send_is_accepted_from_the_pool_sender(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    created = await twilio.messages.create_async(
        to=customer_in_window, messaging_service_sid=SERVICE_SID, body="Hi", status_callback=STATUS_URL
    )
    assert (created.status, created.from_, created.num_segments) == ("accepted", SENDER, "0")
    await emulator.wait_idle()
    assert {h.params["MessagingServiceSid"] for h in receiver.of("/status")} == {SERVICE_SID}


async def test_session_message_outside_window_fails_63016_by_callback(
    twilio: Client, emulator: Emulator, receiver: Receiver
) -> None:
    await emulator.set_last_inbound(CUSTOMER, datetime.now(UTC) - timedelta(hours=25))
    sid = await send(twilio, body="Are you still interested?")
    await emulator.wait_idle()
    assert receiver.statuses(sid) == ["queued", "failed"]
    failed = receiver.of("/status")[-1].params
    assert failed["ErrorCode"] == "63016" and "outside the allowed window" in failed["ErrorMessage"]
    fetched = await twilio.messages(sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("failed", 63016)


async def test_approved_template_is_delivered_outside_window(
    twilio: Client, emulator: Emulator, receiver: Receiver
) -> None:
    variables = json.dumps({"1": "Ana", "2": "#777"})
    sid = await send(twilio, content_sid=SHIPPED, content_variables=variables)
    await emulator.wait_idle()
    assert receiver.statuses(sid)[-2:] == ["delivered", "read"]
    fetched = await twilio.messages(sid).fetch_async()
    assert fetched.body == "Hi Ana, your order #777 has shipped."


async def test_unapproved_template_outside_window_fails_63016(
    twilio: Client, emulator: Emulator, receiver: Receiver
) -> None:
    sid = await send(twilio, content_sid=BY_NAME["track_order"].sid)
    await emulator.wait_idle()
    assert receiver.statuses(sid) == ["queued", "failed"]


async def test_window_closes_24_hours_after_last_inbound(
    twilio: Client, emulator: Emulator, receiver: Receiver
) -> None:
    await emulator.set_last_inbound(CUSTOMER, datetime.now(UTC) - timedelta(hours=23, minutes=59))
    sid = await send(twilio, body="Still in time")
    await emulator.wait_idle()
    assert "delivered" in receiver.statuses(sid)


@pytest.mark.parametrize(
    "to", ["+5511987654321", "whatsapp:5511987654321", "whatsapp:+551198765", "whatsapp:+1555"]
)
async def test_invalid_to_is_21211(twilio: Client, emulator: Emulator, to: str) -> None:
    error = await rejected(twilio, to=to, body="hi")
    assert (error.status, error.code) == (400, 21211)
    assert (await emulator.sent())[-1]["outcome"]["code"] == 21211


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"from_": None, "body": "hi"}, 21603),
        ({"from_": "+14155238886", "body": "hi"}, 21910),
        ({"from_": "whatsapp:+14155550100", "body": "hi"}, 63007),
        ({"messaging_service_sid": "MG123", "body": "hi"}, 21701),
        ({}, 21619),
        ({"body": "x" * 1601}, 21617),
        ({"body": "hi", "content_sid": SHIPPED}, 63030),
        ({"media_url": ["https://a.example/1.jpg", "https://a.example/2.jpg"]}, 63030),
        ({"media_url": ["ftp://a.example/1.jpg"]}, 21620),
        ({"content_sid": "HX" + "0" * 32}, 21655),
        ({"content_sid": SHIPPED, "content_variables": "[1, 2]"}, 21656),
        ({"content_sid": SHIPPED, "content_variables": '{"1": 5}'}, 21656),
        ({"body": "hi", "content_variables": '{"1": "Ana"}'}, 21656),
    ],
)
async def test_invalid_create_requests(twilio: Client, kwargs: dict[str, object], code: int) -> None:
    error = await rejected(twilio, **kwargs)
    assert (error.status, error.code) == (400, code)


async def test_body_of_exactly_1600_characters_is_accepted(twilio: Client) -> None:
    assert await send(twilio, body="x" * 1600)


async def test_from_and_messaging_service_together_are_accepted(twilio: Client) -> None:
    """The spec allows both: From picks a sender of the service's pool."""
    assert await send(twilio, body="hi", messaging_service_sid=SERVICE_SID)


async def test_opted_out_recipient_is_21610(twilio: Client, emulator: Emulator) -> None:
    await emulator.opt_out(CUSTOMER)
    error = await rejected(twilio, body="hi")
    assert (error.status, error.code) == (400, 21610)


async def test_stop_then_start_from_the_customer(twilio: Client, emulator: Emulator) -> None:
    await emulator.customer_says(CUSTOMER, "stop")
    assert (await rejected(twilio, body="hi")).code == 21610
    await emulator.customer_says(CUSTOMER, "START")
    assert await send(twilio, body="Welcome back")


async def test_fail_next_api_429_then_success(twilio: Client, emulator: Emulator) -> None:
    await emulator.fail_next(20429)
    error = await rejected(twilio, body="hi")
    assert (error.status, error.code) == (429, 20429)
    assert await send(twilio, body="hi")
    outcomes = [entry["outcome"] for entry in await emulator.sent()]
    assert [o["status"] for o in outcomes] == [429, 201]
    assert len(await twilio.messages.list_async()) == 1


async def test_fail_next_api_times_and_explicit_status(twilio: Client, emulator: Emulator) -> None:
    await emulator.fail_next(20500, http_status=503, times=2)
    assert [(await rejected(twilio, body="hi")).status for _ in range(2)] == [503, 503]
    assert await send(twilio, body="hi")


@pytest.mark.parametrize(
    ("code", "statuses"),
    [(63024, ["queued", "failed"]), (30008, ["queued", "sent", "undelivered"])],
)
async def test_fail_next_callback(
    twilio: Client,
    emulator: Emulator,
    receiver: Receiver,
    customer_in_window: str,
    code: int,
    statuses: list[str],
) -> None:
    await emulator.fail_next(code, via="callback")
    failing, fine = await send(twilio, body="one"), await send(twilio, body="two")
    await emulator.wait_idle()
    assert receiver.statuses(failing) == statuses
    assert receiver.callbacks(failing)[-1].params["ErrorCode"] == str(code)
    assert "delivered" in receiver.statuses(fine)
    assert (await twilio.messages(failing).fetch_async()).error_code == code


async def test_duplicates_deliver_every_callback_twice(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    await emulator.configure(duplicate_rate=1.0)
    sid = await send(twilio, body="hi")
    await emulator.wait_idle()
    statuses = receiver.statuses(sid)
    assert statuses == ["queued", "queued", "sent", "sent", "delivered", "delivered", "read", "read"]
    tokens = [h.headers["i-twilio-idempotency-token"] for h in receiver.of("/status")]
    assert tokens[0] == tokens[1] and tokens[1] != tokens[2]


async def test_reorder_shuffles_callbacks_but_not_the_resource(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    await emulator.configure(reorder=True)
    sids = [await send(twilio, body=f"m{n}") for n in range(8)]
    await emulator.wait_idle()
    orders = [receiver.statuses(sid) for sid in sids]
    assert all(sorted(o) == ["delivered", "queued", "read", "sent"] for o in orders)
    assert any(o != ["queued", "sent", "delivered", "read"] for o in orders)
    assert {(await twilio.messages(sid).fetch_async()).status for sid in sids} == {"read"}


async def test_read_rate_zero_never_reads(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    await emulator.configure(read_rate=0.0)
    sid = await send(twilio, body="hi")
    await emulator.wait_idle()
    assert receiver.statuses(sid) == ["queued", "sent", "delivered"]


async def test_no_status_callback_still_advances_the_resource(
    twilio: Client, emulator: Emulator, receiver: Receiver, customer_in_window: str
) -> None:
    sid = await send(twilio, body="hi", status_callback=None)
    await emulator.wait_idle()
    assert receiver.of("/status") == []
    assert (await twilio.messages(sid).fetch_async()).status == "read"


async def test_sent_records_params_as_received(twilio: Client, emulator: Emulator) -> None:
    await send(twilio, media_url=["https://cdn.example.com/a.jpg"], body="caption")
    [entry] = await emulator.sent()
    assert entry["params"]["MediaUrl"] == ["https://cdn.example.com/a.jpg"]
    assert entry["params"]["Body"] == "caption" and entry["auth_user"] == ACCOUNT_SID


async def test_wrong_credentials_are_401_20003(sdk_http: HttpxTwilioClient) -> None:
    intruder = Client(ACCOUNT_SID, "wrong-token", http_client=sdk_http)
    with pytest.raises(TwilioRestException) as caught:
        await intruder.messages.create_async(to=CUSTOMER, from_=SENDER, body="hi")
    assert (caught.value.status, caught.value.code) == (401, 20003)


async def test_api_key_credentials_are_accepted(sdk_http: HttpxTwilioClient, emulator: Emulator) -> None:
    keyed = Client(API_KEY_SID, API_KEY_SECRET, ACCOUNT_SID, http_client=sdk_http)
    await keyed.messages.create_async(to=CUSTOMER, from_=SENDER, body="hi")
    assert (await emulator.sent())[0]["auth_user"] == API_KEY_SID


async def test_account_in_path_must_match(sdk_http: HttpxTwilioClient) -> None:
    other = Client(ACCOUNT_SID, "x", account_sid="AC" + "1" * 32, http_client=sdk_http)
    with pytest.raises(TwilioRestException) as caught:
        await other.messages("SM" + "0" * 32).fetch_async()
    assert (caught.value.status, caught.value.code) == (401, 20003)


async def test_unknown_message_is_404_20404(twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await twilio.messages("SM" + "0" * 32).fetch_async()
    assert (caught.value.status, caught.value.code) == (404, 20404)
