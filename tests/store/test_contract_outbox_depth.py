"""What the metrics read from the store, on every backend: the outbox's queue and each commit's size."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, Clock, inbound, we_send
from wa_inbox.domain.policy import Draft
from wa_inbox.store import OutboxDepth, Store

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_an_empty_outbox(store: Store) -> None:
    await inbound(store, 1)  # an inbound message is no outbound work

    assert await store.outbox_depth() == OutboxDepth(pending=0, sending=0, oldest_pending_at=None)


async def test_pending_and_sending_are_counted_apart_and_the_oldest_pending_is_dated(
    backend: Backend,
) -> None:
    clock = Clock(START)
    store = await backend.open(clock)
    try:
        first = await store.queue_draft(Draft(ANA, "first"), "k1")
        clock.advance(60)
        await store.queue_draft(Draft(BEN, "second"), "k2")
        clock.advance(60)
        await store.queue_draft(Draft(ANA, "third"), "k3")
        await we_send(store, Draft(BEN, "taken by Twilio"), "SM" + "e" * 32)  # no longer in the outbox

        assert await store.outbox_depth() == OutboxDepth(3, 0, START)

        (claimed,) = await store.claim_unsent(1)  # the oldest: it is `sending` now
        assert claimed.id == first
        assert await store.outbox_depth() == OutboxDepth(2, 1, START.replace(minute=1))

        await store.record_failed(claimed.id, 63016, "outside the window")
        assert await store.outbox_depth() == OutboxDepth(2, 0, START.replace(minute=1))
    finally:
        await store.close()


async def test_batch_listeners_hear_every_write_once(store: Store) -> None:
    heard: list[int] = []
    store.on_batch(heard.append)

    await asyncio.gather(*(inbound(store, n) for n in range(40)))
    await inbound(store, 99)

    assert sum(heard) == 41  # each write in exactly one commit
    assert all(writes >= 1 for writes in heard) and heard[-1] == 1
