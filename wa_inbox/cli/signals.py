"""Stopping a headless command (`serve`, `demo --headless`) on SIGINT or SIGTERM, cleanly.

asyncio.run's own Ctrl-C handling cancels the main task on the first SIGINT and raises
KeyboardInterrupt into the event loop on the second. `timeout`, systemd and a terminal's process
group often deliver the signal twice, so the second one landed in the middle of the shutdown and
could leave it waiting forever on a half-closed server. Here every signal only sets an event, and
the shutdown runs once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any


def stop_requested() -> asyncio.Event:
    """An event the next SIGINT or SIGTERM sets (any later one is absorbed)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` until it ends or a signal arrives; then cancel it and wait for its cleanup."""
    stop = stop_requested()
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
