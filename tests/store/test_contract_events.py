"""The event outbox, on every backend: an event written with its new webhook only, read in order, marked
published, failures counted, the backlog, and retention of published events only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, BUSINESS, Clock, record, sid
from tests.support.world import eventually
from wa_inbox.config import Settings
from wa_inbox.domain.events import Event, EventBacklog, inbound_event, status_event
from wa_inbox.domain.models import InboundMessage, StatusUpdate, WebhookKind
from wa_inbox.retention import pruning_published_events
from wa_inbox.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def store(backend: Backend, clock: Clock) -> AsyncIterator[Store]:
    opened = await backend.open(clock)
    yield opened
    await opened.close()


def message(n: int, address: str = ANA, body: str = "hello") -> InboundMessage:
    return InboundMessage(sid(n), address, BUSINESS, body)


async def customer_writes(store: Store, n: int, address: str = ANA, at: datetime = T0) -> tuple[bool, Event]:
    """Message `n` arrives with its event, as the receiver hands it over with the stream on."""
    msg = message(n, address)
    event = inbound_event(msg, {"MessageSid": [msg.sid], "From": [address]}, at)
    new = await store.ingest_inbound(msg, record(msg.sid, at=at), event=event)
    return new, event


async def status_arrives(store: Store, n: int, status: str, at: datetime = T0) -> tuple[bool, Event]:
    update = StatusUpdate(sid(n), status, to_addr=BEN)
    event = status_event(update, {"MessageSid": [sid(n)], "MessageStatus": [status]}, at)
    new = await store.ingest_status(update, record(sid(n), WebhookKind.STATUS, at=at), event)
    return new, event


async def test_a_new_webhook_s_event_is_pending_as_it_was_given(store: Store) -> None:
    _, inbound = await customer_writes(store, 1, at=T0)
    _, status = await status_arrives(store, 2, "delivered", at=T0 + timedelta(seconds=1))

    pending = await store.pending_events(10)

    assert [p.event for p in pending] == [inbound, status]
    assert [p.created_at for p in pending] == [T0, T0 + timedelta(seconds=1)]
    assert [p.attempts for p in pending] == [0, 0]
    assert pending[0].id < pending[1].id


async def test_a_retried_webhook_writes_no_second_event(store: Store) -> None:
    first, _ = await customer_writes(store, 1)
    retry, _ = await customer_writes(store, 1, at=T0 + timedelta(seconds=5))
    status_first, _ = await status_arrives(store, 2, "sent")
    status_retry, _ = await status_arrives(store, 2, "sent")
    next_status, _ = await status_arrives(store, 2, "delivered")

    assert (first, retry, status_first, status_retry, next_status) == (True, False, True, False, True)
    keys = [p.event.idempotency_key for p in await store.pending_events(10)]
    assert keys == [sid(1), f"{sid(2)}:sent", f"{sid(2)}:delivered"]


async def test_without_an_event_nothing_enters_the_outbox(store: Store, backend: Backend) -> None:
    await store.ingest_inbound(message(1), record(sid(1)))
    await store.ingest_status(StatusUpdate(sid(2), "sent", to_addr=ANA), record(sid(2), WebhookKind.STATUS))

    assert await store.pending_events(10) == []
    assert await store.event_backlog() == EventBacklog(0, None, None)
    assert await backend.rows("SELECT COUNT(*) FROM events") == [(0,)]


async def test_pending_events_come_oldest_first_a_page_at_a_time(store: Store) -> None:
    for n in range(1, 8):
        await customer_writes(store, n, ANA if n % 2 else BEN)

    first = await store.pending_events(3)
    assert [p.event.idempotency_key for p in first] == [sid(1), sid(2), sid(3)]
    await store.mark_events_published([p.id for p in first])
    rest = await store.pending_events(10)
    assert [p.event.idempotency_key for p in rest] == [sid(n) for n in range(4, 8)]


async def test_marking_published_is_once_and_ignores_unknown_ids(store: Store) -> None:
    for n in (1, 2, 3):
        await customer_writes(store, n)
    ids = [p.id for p in await store.pending_events(10)]

    assert await store.mark_events_published([]) == 0
    assert await store.mark_events_published([ids[0], ids[2], 10_000]) == 2
    assert await store.mark_events_published([ids[0]]) == 0
    assert [p.id for p in await store.pending_events(10)] == [ids[1]]


async def test_a_failed_try_is_counted_and_reported_and_the_event_keeps_its_place(store: Store) -> None:
    for n in (1, 2):
        await customer_writes(store, n)
    ids = [p.id for p in await store.pending_events(10)]

    await store.record_event_failure(ids, "KafkaConnectionError: Unable to bootstrap from 127.0.0.1:1")
    await store.record_event_failure(ids[:1], "RequestTimedOutError " + "x" * 2000)

    pending = await store.pending_events(10)
    assert [(p.id, p.attempts) for p in pending] == [(ids[0], 2), (ids[1], 1)]
    backlog = await store.event_backlog()
    assert backlog.pending == 2 and backlog.last_error is not None
    assert backlog.last_error.startswith("RequestTimedOutError") and len(backlog.last_error) <= 1000
    await store.mark_events_published(ids)
    assert await store.event_backlog() == EventBacklog(0, None, None)


async def test_the_backlog_counts_the_unpublished_and_dates_the_oldest(store: Store) -> None:
    assert await store.event_backlog() == EventBacklog(0, None, None)
    for n in range(1, 5):
        await customer_writes(store, n, at=T0 + timedelta(minutes=n))
    ids = [p.id for p in await store.pending_events(10)]
    await store.mark_events_published(ids[:2])

    backlog = await store.event_backlog()

    assert backlog == EventBacklog(2, T0 + timedelta(minutes=3), None)
    assert backlog.lag(T0 + timedelta(minutes=10)) == timedelta(minutes=7)


async def test_pruning_deletes_only_events_published_before_the_cutoff(
    store: Store, backend: Backend, clock: Clock
) -> None:
    for n in range(1, 5):
        await customer_writes(store, n)
    ids = [p.id for p in await store.pending_events(10)]
    await store.mark_events_published(ids[:2])  # published at T0
    clock.advance(3600)
    await store.mark_events_published(ids[2:3])  # an hour later; ids[3] never

    assert await store.prune_events(T0 + timedelta(minutes=30)) == 2
    assert await store.prune_events(T0 + timedelta(days=400)) == 1
    assert await backend.rows("SELECT id FROM events") == [(ids[3],)]
    assert [p.id for p in await store.pending_events(10)] == [ids[3]]
    retry, _ = await customer_writes(store, 1)
    assert retry is False  # the webhook's own dedupe outlives its pruned event
    assert await store.event_backlog() == EventBacklog(1, T0, None)


async def test_the_server_prunes_published_events_at_start_and_then_periodically(
    store: Store, backend: Backend
) -> None:
    now = [T0]
    for n in (1, 2):
        await customer_writes(store, n)
    ids = [p.id for p in await store.pending_events(10)]
    await store.mark_events_published(ids[:1])  # published at T0; ids[1] waits for the broker
    settings = Settings.model_validate({"events": {"retention_days": 2}})

    async with pruning_published_events(settings, store, every_seconds=0.05, clock=lambda: now[0]):
        await asyncio.sleep(0.2)
        assert await backend.rows("SELECT id FROM events ORDER BY id") == [(ids[0],), (ids[1],)]
        now[0] = T0 + timedelta(days=2, seconds=1)
        await eventually(lambda: backend.rows("SELECT id FROM events"), lambda rows: rows == [(ids[1],)])

    assert [p.id for p in await store.pending_events(10)] == [ids[1]]  # never published: never pruned
