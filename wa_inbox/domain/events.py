"""The event stream's events: what other systems (a CRM, bots, analytics) read from Kafka about each
webhook wa-inbox accepted.

Two topics, one event per new webhook (a retry of one already accepted makes none):

- `twilio.inbound.v1`: a customer's message, `{"event_type": "twilio_inbound", "received_at",
  "message_sid", "from", "to", "body", "num_media", "raw"}`;
- `twilio.status.v1`: a status callback, `{"event_type": "twilio_status", "message_sid", "status",
  "error_code", "error_message", "received_at", "raw"}`.

`raw` is the form exactly as Twilio posted it, one string per field (Twilio sends each field once; a
repeated one keeps its first value, as the receiver reads it). The JSON Schemas in `schemas/events/`
describe both.

Each event is keyed by the customer's address, so that Kafka keeps one customer's events in order
(they land in one partition). Delivery is at least once: a consumer drops a repeat by the event's
idempotency key, the message SID (inbound) or the SID and the status (status), which travels in the
payload and in the record's `idempotency-key` header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from wa_inbox.domain.models import Form, InboundMessage, StatusUpdate

INBOUND_TOPIC = "twilio.inbound.v1"
STATUS_TOPIC = "twilio.status.v1"
IDEMPOTENCY_HEADER = "idempotency-key"
"""The Kafka record header carrying `Event.idempotency_key`, for consumers that dedupe unparsed."""

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Event:
    """One record to publish: written with its webhook (the outbox), published by the relay."""

    topic: str
    key: str
    """The Kafka key: the customer's `whatsapp:+E164` address (a status without a To: its SID)."""
    payload: str
    """The record's value: the event's JSON, as it is published."""
    idempotency_key: str
    """What a consumer dedupes on: the message SID, or `SID:status` for a status event."""


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event the store holds and no broker has acknowledged yet, as the relay reads it."""

    id: int
    """Its place in the outbox: the relay publishes in this order."""
    event: Event
    created_at: datetime
    """When it was written, with its webhook."""
    attempts: int
    """How many times publishing it was tried before."""


@dataclass(frozen=True, slots=True)
class EventBacklog:
    """How far the relay is behind: the events not yet published, and when the oldest was written."""

    pending: int
    oldest_created_at: datetime | None
    last_error: str | None = None
    """Why the latest failed try to publish failed (the broker's or the client's words), if one did."""

    def lag(self, now: datetime) -> timedelta:
        """How long the oldest pending event has waited; zero when nothing waits."""
        if self.oldest_created_at is None:
            return timedelta(0)
        return max(now - self.oldest_created_at, timedelta(0))


def inbound_event(
    message: InboundMessage, form: Form, received_at: datetime, topic: str = INBOUND_TOPIC
) -> Event:
    """The event of a customer's message, received at `received_at` with the webhook form `form`."""
    payload = {
        "event_type": "twilio_inbound",
        "received_at": iso_utc(received_at),
        "message_sid": message.sid,
        "from": message.from_addr,
        "to": message.to_addr,
        "body": message.body,
        "num_media": len(message.media),
        "raw": raw_fields(form),
    }
    return Event(topic, message.from_addr, _JSON.encode(payload), message.sid)


def status_event(update: StatusUpdate, form: Form, received_at: datetime, topic: str = STATUS_TOPIC) -> Event:
    """The event of a status callback, keyed by the customer it was sent to (its To)."""
    payload = {
        "event_type": "twilio_status",
        "message_sid": update.sid,
        "status": update.status,
        "error_code": update.error_code,
        "error_message": update.error_message,
        "received_at": iso_utc(received_at),
        "raw": raw_fields(form),
    }
    key = update.to_addr or update.sid
    return Event(topic, key, _JSON.encode(payload), f"{update.sid}:{update.status}")


def raw_fields(form: Form) -> dict[str, str]:
    """Every field of the form as it came, one value each (the first, should one repeat)."""
    return {name: values[0] for name, values in form.items() if values}


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds and `Z`, as the JSON output writes times."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
