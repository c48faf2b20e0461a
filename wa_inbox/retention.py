"""Retention: the server deletes raw webhook log rows past `[retention] webhook_log_days`, hourly.

Only the raw requests go. What dedupes Twilio's retries stays with the data it protects: messages keep
their SIDs and status events their (SID, status) pairs, so a retry of a webhook whose raw row is gone
is still answered as the duplicate it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from wa_inbox.config import Settings
from wa_inbox.store import Store

log = logging.getLogger(__name__)

EVERY_SECONDS = 3600.0


@contextlib.asynccontextmanager
async def pruning_webhook_log(
    settings: Settings,
    store: Store,
    every_seconds: float = EVERY_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[None]:
    """Prune now, then every `every_seconds`, while the block runs."""
    keep = timedelta(days=settings.retention.webhook_log_days)
    task = asyncio.create_task(_prune(store, keep, every_seconds, clock), name="wa-inbox-retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _prune(store: Store, keep: timedelta, every_seconds: float, clock: Callable[[], datetime]) -> None:
    while True:
        try:
            removed = await store.prune_webhook_log(clock() - keep)
        except Exception as error:  # a busy or failing database: the next round tries again
            log.warning("the raw webhook log was not pruned (%s: %s)", type(error).__name__, error)
        else:
            if removed:
                log.info("removed %d raw webhook log rows older than %d days", removed, keep.days)
        await asyncio.sleep(every_seconds)
