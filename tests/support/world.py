"""The emulator and the inbox wired together, as `wa-inbox demo` runs them, tuned to be quick in tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from wa_inbox.config import Settings
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.gateway.lease import LeaseTiming
from wa_inbox.testing import EmulatedInbox, emulated_inbox

T = TypeVar("T")

QUICK_LEASE = LeaseTiming(seconds=1.5, heartbeat=0.25, poll=0.05)
"""A sender lease that a dead holder's successor takes within two seconds."""


def quick(settings: Settings, **outbox: Any) -> Settings:
    """Tiny backoffs so retry tests take milliseconds; `outbox` overrides more."""
    changes = {"backoff_base_seconds": 0.005, **outbox}
    media = settings.media.model_copy(update={"download_backoff_seconds": 0.005})
    return settings.model_copy(update={"outbox": settings.outbox.model_copy(update=changes), "media": media})


@contextlib.asynccontextmanager
async def running_world(
    tmp_path: Path, database: DatabaseUrl | None = None, **outbox: Any
) -> AsyncIterator[EmulatedInbox]:
    """The world on a SQLite file in `tmp_path`, or on the PostgreSQL `database`."""
    async with emulated_inbox(
        database or tmp_path / "inbox.db",
        lambda s: quick(s, **outbox),
        media_dir=tmp_path / "media" if database else None,
        status_delay=(0.002, 0.01),
        seed=7,
    ) as world:
        yield world


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], seconds: float = 10) -> T:
    """Poll `probe` until `done(result)`: effects that cross a socket have no event to await."""
    async with asyncio.timeout(seconds):
        while not done(result := await probe()):  # noqa: ASYNC110 - the effect is in another server
            await asyncio.sleep(0.01)
    return result


async def customer_writes(world: EmulatedInbox, address: str, body: str = "Hi!") -> None:
    """A customer message through the emulator's signed webhook, committed in our store."""
    sid = await world.emulator.customer_says(address, body)
    await eventually(lambda: world.store.get_message(sid), lambda message: message is not None)
