"""The event relay in a running inbox, when `[events] kafka_bootstrap` is set (see `gateway.event_relay`).

One process publishes a database's events: the one whose sender holds the sender lease, so that
several `serve` replicas on one database do not all publish (as they do not all send). A process
without a sender (no Twilio credentials: receiving only) never takes the sender lease for its relay,
which would keep a `wa-inbox send` on the same database from sending; it publishes while no process
holds the lease, and stands by while one does. (Two such receive-only processes on one database both
publish: duplicates that consumers drop by key, never a loss.)

With the stream off, nothing of the relay or of its Kafka client is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from wa_inbox.config import Settings
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.store import Store

if TYPE_CHECKING:
    from wa_inbox.gateway.event_relay import MayPublish, RelayTiming


@contextlib.asynccontextmanager
async def relaying_events(
    settings: Settings, store: Store, outbox: Outbox | None, timing: RelayTiming | None = None
) -> AsyncIterator[None]:
    """Publish the event outbox while the block runs, when the stream is on and this process's turn."""
    if not settings.events.enabled:
        yield
        return
    from wa_inbox.gateway.event_relay import DEFAULT_TIMING, EventRelay

    relay = EventRelay(settings.events, store, publisher_turn(store, outbox), timing or DEFAULT_TIMING)
    task = asyncio.create_task(relay.run(), name="wa-inbox-event-relay")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def publisher_turn(store: Store, outbox: Outbox | None) -> MayPublish:
    """When this process publishes: while its sender holds the lease, or, without a sender, while no
    process holds it."""

    async def sender_holds_the_lease() -> bool:
        return outbox is not None and outbox.holds_sender_lease

    async def nobody_sends() -> bool:
        return await store.sender_lease() is None

    return sender_holds_the_lease if outbox is not None else nobody_sends
