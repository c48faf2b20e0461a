"""The event stream against a real broker (Tansu): signed webhooks through a real uvicorn receiver, the
relay publishing the outbox, a consumer reading both topics.

Exactly the seed's schema, keyed by the customer and in each customer's order; a retried webhook is
one event; with the broker stopped the webhooks are still acknowledged at once and nothing is lost once
it is back; a relay that dies between the broker's acknowledgement and its mark publishes again (a
duplicate recognisable by key), never loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.support.broker import EVENTS, Broker, Record, consumer, read_until
from tests.support.receiver import (
    BUSINESS,
    INBOUND,
    STATUS,
    Receiver,
    running_receiver,
    status_form,
    text_form,
)
from tests.support.world import eventually
from wa_inbox.config import Settings
from wa_inbox.domain.events import INBOUND_TOPIC, STATUS_TOPIC, EventBacklog
from wa_inbox.gateway.event_relay import EventRelay, RelayTiming
from wa_inbox.store import Store

ANA, BEN = "whatsapp:+5511987654321", "whatsapp:+34612345678"
QUICK = RelayTiming(poll=0.05, backoff_first=0.05, backoff_max=0.4, request_timeout=2.0)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
TOPICS = (INBOUND_TOPIC, STATUS_TOPIC)


def sid(n: int) -> str:
    return f"SM{n:032x}"


def schema(topic: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / f"{topic}.schema.json").read_text()))


def from_customer(n: int, address: str, body: str) -> dict[str, str]:
    return text_form(sid(n), body=body, From=address, WaId=address.removeprefix("whatsapp:+"))


def callback(n: int, status: str, address: str, **extra: str) -> dict[str, str]:
    return status_form(sid(n), status, To=address, **extra)


async def always() -> bool:
    return True


@contextlib.asynccontextmanager
async def relaying(store: Store, broker: Broker, **events: Any) -> AsyncIterator[EventRelay]:
    """The relay on `store`, publishing to `broker` whenever it has events, until the block ends."""
    settings = events_settings(broker, **events)
    relay = EventRelay(settings.events, store, always, QUICK)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def events_settings(broker: Broker, **events: Any) -> Settings:
    return Settings.model_validate({"events": {"kafka_bootstrap": broker.bootstrap, **EVENTS, **events}})


@contextlib.asynccontextmanager
async def receiver_with_events(tmp_path: Path, broker: Broker) -> AsyncIterator[Receiver]:
    events = {"kafka_bootstrap": broker.bootstrap, **EVENTS}
    async with running_receiver(tmp_path, events=events) as receiver:
        yield receiver


async def published(store: Store) -> EventBacklog:
    return await eventually(store.event_backlog, lambda backlog: backlog.pending == 0, seconds=20)


def keys_of(records: list[Record]) -> Counter[str]:
    return Counter(record.headers["idempotency-key"] for record in records)


async def test_webhooks_become_events_of_the_seed_s_schema_keyed_and_in_order_per_customer(
    tmp_path: Path, broker: Broker
) -> None:
    async with receiver_with_events(tmp_path, broker) as receiver, relaying(receiver.store, broker):
        sent: list[dict[str, str]] = []
        for n in range(1, 11):  # the two customers take turns, five messages each
            form = from_customer(n, ANA if n % 2 else BEN, f"message {n}")
            assert (await receiver.post(INBOUND, form)).status_code == 200
            sent.append(form)
        statuses = [
            callback(100, "sent", ANA),
            callback(100, "delivered", ANA),
            callback(100, "read", ANA),
            callback(101, "undelivered", BEN, ErrorCode="63016", ErrorMessage="Outside the 24h window"),
        ]
        for form in statuses:
            assert (await receiver.post(STATUS, form)).status_code == 204
        async with consumer(broker.bootstrap, *TOPICS) as reader:
            records = await read_until(reader, lambda got: len(got) >= 14)

    inbound = sorted(
        (r for r in records if r.topic == INBOUND_TOPIC), key=lambda r: json.loads(r.value)["body"]
    )
    status = [r for r in records if r.topic == STATUS_TOPIC]
    assert len(inbound) == 10 and len(status) == 4
    for record in records:
        payload = json.loads(record.value)
        schema(record.topic).validate(payload)
        assert record.key == (payload["from"] if record.topic == INBOUND_TOPIC else payload["raw"]["To"])
    first = json.loads(next(r for r in inbound if json.loads(r.value)["message_sid"] == sid(1)).value)
    assert first == {
        "event_type": "twilio_inbound",
        "received_at": first["received_at"],
        "message_sid": sid(1),
        "from": ANA,
        "to": BUSINESS,
        "body": "message 1",
        "num_media": 0,
        "raw": sent[0],
    }
    failed = json.loads(next(r for r in status if r.key == BEN).value)
    assert (failed["status"], failed["error_code"], failed["error_message"]) == (
        "undelivered",
        63016,
        "Outside the 24h window",
    )
    assert failed["raw"] == statuses[3]
    assert keys_of(records) == Counter(
        [sid(n) for n in range(1, 11)]
        + [f"{sid(100)}:sent", f"{sid(100)}:delivered", f"{sid(100)}:read", f"{sid(101)}:undelivered"]
    )
    for customer in (ANA, BEN):  # one customer's events: one partition, in the order they came
        theirs = sorted((r for r in records if r.key == customer and r.topic == INBOUND_TOPIC), key=offset)
        assert len({r.partition for r in theirs}) == 1
        bodies = [json.loads(r.value)["body"] for r in theirs]
        assert bodies == [form["Body"] for form in sent if form["From"] == customer]
    ana_statuses = sorted((r for r in status if r.key == ANA), key=offset)
    assert [json.loads(r.value)["status"] for r in ana_statuses] == ["sent", "delivered", "read"]


def offset(record: Record) -> int:
    return record.offset


async def test_a_retried_webhook_gives_no_second_event(tmp_path: Path, broker: Broker) -> None:
    async with receiver_with_events(tmp_path, broker) as receiver, relaying(receiver.store, broker):
        for _ in range(3):  # Twilio's retries of one message and one callback
            assert (await receiver.post(INBOUND, from_customer(1, ANA, "hi"))).status_code == 200
            assert (await receiver.post(STATUS, callback(2, "delivered", ANA))).status_code == 204
        await published(receiver.store)
        async with consumer(broker.bootstrap, *TOPICS) as reader:
            records = await read_until(reader, lambda got: len(got) >= 2)
            with contextlib.suppress(TimeoutError):  # anything more would be a second event
                records += await read_until(reader, lambda got: len(got) > 0, seconds=1.5)

    assert receiver.rows("SELECT idempotency_key FROM events ORDER BY id") == [
        (sid(1),),
        (f"{sid(2)}:delivered",),
    ]
    assert keys_of(records) == Counter([sid(1), f"{sid(2)}:delivered"])


async def test_with_the_broker_stopped_webhooks_are_acknowledged_and_nothing_is_lost(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wa_inbox.gateway.event_relay")
    async with receiver_with_events(tmp_path, broker) as receiver, relaying(receiver.store, broker):
        for n in range(1, 4):
            await receiver.post(INBOUND, from_customer(n, ANA, f"before {n}"))
        async with consumer(broker.bootstrap, *TOPICS) as reader:
            before = await read_until(reader, lambda got: len(got) >= 3)

        broker.stop()
        started = time.monotonic()
        during = [from_customer(n, ANA if n % 2 else BEN, f"during {n}") for n in range(4, 34)]
        answers = await asyncio.gather(*(receiver.post(INBOUND, form) for form in during))
        took = time.monotonic() - started
        assert [answer.status_code for answer in answers] == [200] * 30
        assert took < 5, f"30 webhooks took {took:.1f} s to be acknowledged with the broker away"
        assert receiver.rows("SELECT COUNT(*) FROM messages") == [(33,)]  # committed before the ack
        waiting = await eventually(
            receiver.store.event_backlog, lambda backlog: backlog.last_error is not None, seconds=10
        )
        assert waiting.pending == 30
        await asyncio.sleep(1.0)  # several rounds fail meanwhile, each counted, none logged anew

        broker.start()  # empty again: Tansu keeps its topics in memory
        await published(receiver.store)
        async with consumer(broker.bootstrap, *TOPICS) as reader:
            after = await read_until(reader, lambda got: set(keys_of(got)) >= {sid(n) for n in range(4, 34)})

    assert set(keys_of(before)) | set(keys_of(after)) == {sid(n) for n in range(1, 34)}
    during_keys = {sid(n) for n in range(4, 34)}
    committed = receiver.rows("SELECT key, idempotency_key FROM events ORDER BY id")  # arrival order
    for customer in (ANA, BEN):
        theirs = sorted(
            (r for r in after if r.key == customer and r.headers["idempotency-key"] in during_keys),
            key=offset,
        )
        first_seen = list(dict.fromkeys(r.headers["idempotency-key"] for r in theirs))
        assert first_seen == [key for address, key in committed if address == customer and key in during_keys]
    attempts = receiver.rows("SELECT MIN(attempts) FROM events WHERE idempotency_key = ?", sid(4))
    assert attempts[0][0] >= 2
    messages = [r.getMessage() for r in caplog.records if r.name == "wa_inbox.gateway.event_relay"]
    assert len(messages) == 3, messages  # publishing; cannot publish (once, however many rounds); again
    assert "cannot publish events" in messages[1] and messages[2].endswith("again"), messages
    assert caplog.records and not [r for r in caplog.records if r.name.startswith("aiokafka")]


class MarksNever:
    """A store whose marking never comes back: the relay dies (is cancelled) after the broker
    acknowledged its events and before they are marked, as a process killed there would."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.marking = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def mark_events_published(self, ids: list[int]) -> int:
        self.marking.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_relay_dying_between_publish_and_mark_publishes_again_and_loses_nothing(
    tmp_path: Path, broker: Broker
) -> None:
    async with receiver_with_events(tmp_path, broker) as receiver:
        forms = [from_customer(n, ANA if n % 3 else BEN, f"message {n}") for n in range(1, 13)]
        for form in forms:
            await receiver.post(INBOUND, form)
        stalling = MarksNever(receiver.store)
        async with relaying(stalling, broker):  # type: ignore[arg-type]
            await asyncio.wait_for(stalling.marking.wait(), 20)
        assert (await receiver.store.event_backlog()).pending == 12  # published, never marked

        async with relaying(receiver.store, broker):
            await published(receiver.store)
        async with consumer(broker.bootstrap, INBOUND_TOPIC) as reader:
            records = await read_until(reader, lambda got: len(got) >= 24)

    assert keys_of(records) == Counter({sid(n): 2 for n in range(1, 13)})  # each twice, none lost
    for record in records:
        assert record.headers["idempotency-key"] == json.loads(record.value)["message_sid"]
    for customer in (ANA, BEN):
        theirs = sorted((r for r in records if r.key == customer), key=offset)
        first_seen = list(dict.fromkeys(json.loads(r.value)["body"] for r in theirs))
        assert first_seen == [form["Body"] for form in forms if form["From"] == customer]


async def test_a_broker_that_refuses_the_producer_leaves_every_event_waiting(
    tmp_path: Path, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """Tansu 0.6 refuses the idempotent producer's set-up: the relay says so once, and keeps trying."""
    caplog.set_level(logging.INFO, logger="wa_inbox.gateway.event_relay")
    async with receiver_with_events(tmp_path, broker) as receiver:
        await receiver.post(INBOUND, from_customer(1, ANA, "hi"))
        async with relaying(receiver.store, broker, idempotent_producer=True):
            backlog = await eventually(
                receiver.store.event_backlog, lambda b: b.last_error is not None, seconds=10
            )
            await asyncio.sleep(0.5)

    assert backlog.pending == 1 and "UnknownError" in (backlog.last_error or "")
    assert receiver.rows("SELECT published_at FROM events") == [(None,)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot publish events" in warnings[0].getMessage()
