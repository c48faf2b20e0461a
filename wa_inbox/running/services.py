"""What the TUI runs on: the store, the outbox and where the receiver listens, however they were started.

Three ways to start them, one shape: embedded (receiver and sender in this process), attached (the
database of a running `wa-inbox serve`) and the demo (against the emulator).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from wa_inbox.config import ConfigError, Settings
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.gateway.submission import Submitter
from wa_inbox.store import Store, open_store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    submitter: Submitter
    """Queues what the agent sends (the policy first): the store is all it needs."""
    outbox: Outbox | None
    """This process's sender and its Twilio client; None when attached without credentials (the
    serving process's sender delivers what this inbox queues)."""
    listening_url: str | None
    """Where the embedded receiver listens; None when attached to another process's database."""
    agent: str
    """Who this inbox answers as: every draft it submits, note it adds and read mark it moves is theirs
    (`--agent`, else `[agent] name`, else the operating system's user name)."""

    @classmethod
    def of(
        cls,
        settings: Settings,
        store: Store,
        outbox: Outbox | None,
        listening_url: str | None,
        agent: str | None = None,
    ) -> Services:
        """With this process's sender, queueing wakes it; without one, drafts wait for another's.
        `agent` None: the settings' agent."""
        submitter = outbox.submitter if outbox is not None else Submitter(settings, store)
        return cls(settings, store, submitter, outbox, listening_url, agent or settings.agent.resolved)


Backend = Callable[[], AbstractAsyncContextManager[Services]]


def embedded(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> Backend:
    """Receiver and sender in this process, in the app's event loop."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        from wa_inbox.running.inbox import running_inbox
        from wa_inbox.running.sockets import bind

        settings.require_receiver()
        sock = bind(host, port)
        store = await open_store(settings.store.path)
        try:
            async with running_inbox(settings, store, sock) as inbox:
                yield Services.of(settings, store, inbox.outbox, inbox.listening.url)
        finally:
            await store.close()

    return start


def attached(settings: Settings) -> Backend:
    """The database of a running `wa-inbox serve`: its sender delivers what this TUI queues."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        if isinstance(settings.store.path, Path) and not settings.store.path.exists():
            raise ConfigError(f"There is no database at {settings.store.path}: start `wa-inbox serve` first.")
        store = await open_store(settings.store.path)
        client = _client_or_none(settings)
        try:
            outbox = Outbox(settings, store, client) if client else None
            yield Services.of(settings, store, outbox, None)
        finally:
            if client is not None:
                await client.http_client.close()
            await store.close()

    return start


def demo(pace: float = 4.0, db_path: Path | None = None, agent: str | None = None) -> Backend:
    """The emulator, the receiver and the sender, seeded, with simulated customers writing in;
    the inbox answers as `agent` (None: the settings' agent)."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        from wa_inbox.demo import running_demo

        async with running_demo(db_path, pace, agent) as world:
            yield Services.of(world.settings, world.store, world.outbox, world.receiver_url, agent)

    return start


def _client_or_none(settings: Settings):
    try:
        settings.require_sender()
    except ConfigError:
        return None
    from wa_inbox.gateway.client import make_twilio_client

    return make_twilio_client(settings)


async def hold(backend: Backend, ready: Callable[[Services], None]) -> None:
    """Run `backend` until cancelled, calling `ready` once it is up (an app worker's body)."""
    async with backend() as services:
        ready(services)
        await asyncio.Event().wait()
