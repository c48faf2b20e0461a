"""The two events as the domain builds them: exactly the seed's schema (checked against the JSON Schemas
kept in `schemas/events/`), keyed by the customer, with the idempotency key consumers dedupe on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.support.receiver import BUSINESS, CUSTOMER, SID, status_form, text_form
from wa_inbox.domain.events import (
    INBOUND_TOPIC,
    STATUS_TOPIC,
    inbound_event,
    status_event,
)
from wa_inbox.domain.models import Form
from wa_inbox.domain.webhooks import parse_inbound, parse_status

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
AT = datetime(2026, 3, 1, 12, 0, 5, 120000, tzinfo=UTC)


def validator(topic: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{topic}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def as_form(fields: dict[str, str]) -> Form:
    return {name: [value] for name, value in fields.items()}


def test_an_inbound_event_is_the_seed_s_schema_exactly() -> None:
    fields = text_form(body='Olá "Ana" [b]x[/b] \u202e')
    form = as_form(fields)

    event = inbound_event(parse_inbound(form), form, AT)

    payload = json.loads(event.payload)
    assert payload == {
        "event_type": "twilio_inbound",
        "received_at": "2026-03-01T12:00:05.120000Z",
        "message_sid": SID,
        "from": CUSTOMER,
        "to": BUSINESS,
        "body": 'Olá "Ana" [b]x[/b] \u202e',
        "num_media": 0,
        "raw": fields,
    }
    assert (event.topic, event.key, event.idempotency_key) == (INBOUND_TOPIC, CUSTOMER, SID)
    validator(INBOUND_TOPIC).validate(payload)


def test_num_media_is_a_number_and_the_time_is_utc() -> None:
    fields = text_form(
        body="",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/m/0",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/m/1",
        MediaContentType1="application/pdf",
    )
    form = as_form(fields)
    received = AT.astimezone(timezone(timedelta(hours=-3)))  # a local time: written as UTC

    payload = json.loads(inbound_event(parse_inbound(form), form, received).payload)

    assert (payload["num_media"], payload["received_at"]) == (2, "2026-03-01T12:00:05.120000Z")
    validator(INBOUND_TOPIC).validate(payload)


def test_a_status_event_is_the_seed_s_schema_exactly() -> None:
    fields = status_form(SID, "undelivered", ErrorCode="63016", ErrorMessage="Outside the window")
    form = as_form(fields)

    event = status_event(parse_status(form), form, AT)

    payload = json.loads(event.payload)
    assert payload == {
        "event_type": "twilio_status",
        "message_sid": SID,
        "status": "undelivered",
        "error_code": 63016,
        "error_message": "Outside the window",
        "received_at": "2026-03-01T12:00:05.120000Z",
        "raw": fields,
    }
    assert (event.topic, event.key, event.idempotency_key) == (STATUS_TOPIC, CUSTOMER, f"{SID}:undelivered")
    validator(STATUS_TOPIC).validate(payload)


def test_a_status_without_an_error_has_nulls_and_one_without_a_to_is_keyed_by_its_sid() -> None:
    fields = {"MessageSid": SID, "MessageStatus": "sent"}
    form = as_form(fields)

    event = status_event(parse_status(form), form, AT, topic="custom.status")

    payload = json.loads(event.payload)
    assert (payload["error_code"], payload["error_message"]) == (None, None)
    assert (event.topic, event.key) == ("custom.status", SID)
    validator(STATUS_TOPIC).validate(payload)


@pytest.mark.parametrize(
    ("topic", "change"),
    [
        (INBOUND_TOPIC, {"extra": 1}),
        (INBOUND_TOPIC, {"num_media": "0"}),
        (INBOUND_TOPIC, {"received_at": "2026-03-01 12:00:05"}),
        (STATUS_TOPIC, {"error_code": "63016"}),
        (STATUS_TOPIC, {"event_type": "twilio_inbound"}),
    ],
)
def test_the_schemas_refuse_what_is_not_the_seed_s_shape(topic: str, change: dict[str, Any]) -> None:
    """The schemas are strict enough to catch a drift of the events' shape."""
    if topic == INBOUND_TOPIC:
        form = as_form(text_form())
        payload = json.loads(inbound_event(parse_inbound(form), form, AT).payload)
    else:
        form = as_form(status_form(SID, "sent"))
        payload = json.loads(status_event(parse_status(form), form, AT).payload)
    assert validator(topic).is_valid(payload)
    assert not validator(topic).is_valid({**payload, **change})
