"""A real sender in a process of its own, with a short lease, for tests that kill it.

    python -m tests.support.sender ROLE LEASE_SECONDS HEARTBEAT_SECONDS POLL_SECONDS

Settings come from the environment, as the CLI reads them (`tests.support.cli.cli_env`). It runs
the outbox's sender only (no receiver: the test's own receiver takes the callbacks), logs to
stderr, and stops on SIGTERM; SIGKILL stops it the hard way, lease and all left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from wa_inbox.cli.common import settings_for
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.gateway.lease import LeaseTiming, new_owner
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.logs import configure_logging
from wa_inbox.store import open_store


async def main(role: str, timing: LeaseTiming) -> None:
    settings = settings_for(None, None)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    store = await open_store(settings.store.path)
    client = make_twilio_client(settings)
    try:
        outbox = Outbox(settings, store, client, lease=timing, owner=new_owner(role))
        sender = asyncio.create_task(outbox.run())
        print(f"sender {outbox.owner} started", file=sys.stderr, flush=True)
        await stop.wait()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    finally:
        await client.http_client.close()  # type: ignore[attr-defined]
        await store.close()


if __name__ == "__main__":
    role, seconds, heartbeat, poll = sys.argv[1], *map(float, sys.argv[2:5])
    configure_logging(logging.INFO)
    asyncio.run(main(role, LeaseTiming(seconds, heartbeat, poll)))
