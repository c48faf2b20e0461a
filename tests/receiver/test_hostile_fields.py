"""Signed requests with fields no Twilio request has: each a 400 with its raw-log row, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.support.receiver import INBOUND, STATUS, Receiver, status_form, text_form

SID = "SM" + "a" * 32

INBOUND_CASES = {
    "NumMedia superscript two": ({"NumMedia": "\u00b2"}, "NumMedia is not a number from 0 to 10"),
    "NumMedia Arabic-Indic one": ({"NumMedia": "\u0661"}, "NumMedia is not a number from 0 to 10"),
    "NumMedia of 5,000 digits": ({"NumMedia": "9" * 5000}, "NumMedia is not a number from 0 to 10"),
    "NumMedia eleven": ({"NumMedia": "11"}, "NumMedia is not a number from 0 to 10"),
    "NumMedia with a sign": ({"NumMedia": "+1"}, "NumMedia is not a number from 0 to 10"),
    "MessageSid of 32 z": ({"MessageSid": "SM" + "z" * 32}, "MessageSid is not a Twilio message SID"),
    "MessageSid in Arabic-Indic digits": (
        {"MessageSid": "SM" + "\u0661" * 32},
        "MessageSid is not a Twilio message SID",
    ),
    "MessageSid in capitals": ({"MessageSid": "SM" + "A" * 32}, "MessageSid is not a Twilio message SID"),
    "MessageSid of another kind": ({"MessageSid": "AC" + "a" * 32}, "MessageSid is not a Twilio message SID"),
    "AccountSid not AC": ({"AccountSid": "MG" + "1" * 32}, "AccountSid is not an account SID (AC…)"),
    "MessagingServiceSid not MG": (
        {"MessagingServiceSid": "MG" + "x" * 32},
        "MessagingServiceSid is not a Messaging Service SID (MG…)",
    ),
    "quoted SID not a message's": (
        {"OriginalRepliedMessageSid": "[/x]"},
        "OriginalRepliedMessageSid is not a message SID (SM…)",
    ),
    "Latitude 1e999": ({"Latitude": "1e999", "Longitude": "0"}, "Latitude or Longitude is not a coordinate"),
    "Latitude nan": ({"Latitude": "nan", "Longitude": "0"}, "Latitude or Longitude is not a coordinate"),
    "Longitude -inf": ({"Latitude": "0", "Longitude": "-inf"}, "Latitude or Longitude is not a coordinate"),
    "Latitude beyond the pole": (
        {"Latitude": "90.5", "Longitude": "0"},
        "Latitude or Longitude is not a coordinate",
    ),
    "Latitude in Arabic-Indic digits": (
        {"Latitude": "\u0661\u0662", "Longitude": "0"},
        "Latitude or Longitude is not a coordinate",
    ),
    "Latitude with underscores": (
        {"Latitude": "1_0", "Longitude": "0"},
        "Latitude or Longitude is not a coordinate",
    ),
}

STATUS_CASES = {
    "ErrorCode 2**70": ({"ErrorCode": str(2**70)}, "ErrorCode is not a Twilio error code"),
    "ErrorCode of 5,000 digits": ({"ErrorCode": "6" * 5000}, "ErrorCode is not a Twilio error code"),
    "ErrorCode superscript": ({"ErrorCode": "6301\u00b2"}, "ErrorCode is not a Twilio error code"),
    "ErrorCode negative": ({"ErrorCode": "-1"}, "ErrorCode is not a Twilio error code"),
    "MessageStatus markup": ({"MessageStatus": "[/x]"}, "MessageStatus is not a Twilio status"),
    "MessageStatus of 5,000 letters": ({"MessageStatus": "a" * 5000}, "MessageStatus is not a Twilio status"),
}


@pytest.mark.parametrize(("fields", "reason"), INBOUND_CASES.values(), ids=INBOUND_CASES.keys())
async def test_a_malformed_inbound_field_is_a_400_with_its_row(
    receiver: Receiver, fields: dict[str, str], reason: str
) -> None:
    response = await receiver.post(INBOUND, text_form(SID, **fields))

    assert (response.status_code, response.text) == (400, reason)
    assert receiver.rows("SELECT COUNT(*) FROM messages") == [(0,)]
    assert receiver.rows("SELECT verdict, reason FROM webhook_log") == [("malformed", reason)]


@pytest.mark.parametrize(("fields", "reason"), STATUS_CASES.values(), ids=STATUS_CASES.keys())
async def test_a_malformed_status_field_is_a_400_with_its_row(
    receiver: Receiver, fields: dict[str, str], reason: str
) -> None:
    response = await receiver.post(STATUS, status_form(SID, "failed", **fields))

    assert (response.status_code, response.text) == (400, reason)
    assert receiver.rows("SELECT COUNT(*) FROM status_events") == [(0,)]
    assert receiver.rows("SELECT verdict, reason FROM webhook_log") == [("malformed", reason)]


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("-23.5505199", "-46.6333094"), ("90", "-180"), ("0.0", "179.999999")]
)
async def test_coordinates_as_twilio_writes_them_are_kept(
    receiver: Receiver, latitude: str, longitude: str
) -> None:
    form = text_form(SID, body="", Latitude=latitude, Longitude=longitude, MessageType="location")

    assert (await receiver.post(INBOUND, form)).status_code == 200

    message = await receiver.store.get_message(SID)
    assert message is not None and message.location is not None
    assert (message.location.latitude, message.location.longitude) == (float(latitude), float(longitude))


async def test_the_largest_error_code_kept_fits_the_database(receiver: Receiver) -> None:
    response = await receiver.post(STATUS, status_form(SID, "failed", ErrorCode="999999999"))

    assert response.status_code == 204
    assert receiver.rows("SELECT error_code FROM status_events") == [(999_999_999,)]


async def test_a_malformed_row_keeps_what_was_posted(receiver: Receiver) -> None:
    await receiver.post(INBOUND, text_form(SID, NumMedia="\u00b2"))

    ((body, headers),) = receiver.rows("SELECT body, headers FROM webhook_log")
    assert "NumMedia=%C2%B2" in body
    assert json.loads(headers)["host"].startswith("127.0.0.1")
