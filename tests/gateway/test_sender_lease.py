"""One sender per database: a second sender stands by, and takes a dead one's work only after its lease.

The emulator holds each message create in flight a while (`create_delay`), so a sender always has
requests on their way to Twilio when another starts, or when it is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from twilio.rest import Client

from tests.support.cli import cli_env
from tests.support.world import QUICK_LEASE, customer_writes, eventually, quick
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.models import Direction
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.running.sockets import bind
from wa_inbox.store import MessageQuery
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | DatabaseUrl:
    """Each test below runs on a SQLite file and on a PostgreSQL database, where the processes
    could as well be on several hosts."""
    if request.param == "sqlite":
        return tmp_path / "inbox.db"
    from tests.support.postgres import fresh_database

    return fresh_database()


@contextlib.asynccontextmanager
async def world_without_a_sender(
    tmp_path: Path, create_delay: tuple[float, float], database: Path | DatabaseUrl | None = None
) -> AsyncIterator[EmulatedInbox]:
    """The emulator and a receiver for its callbacks; the senders are the test's to start."""
    async with emulated_inbox(
        database or tmp_path / "inbox.db",
        quick,
        send=False,
        media_dir=tmp_path / "media",
        status_delay=(0.002, 0.01),
        create_delay=create_delay,
    ) as world:
        await customer_writes(world, ANA)
        yield world


async def queue(world: EmulatedInbox, count: int, first: int = 0) -> list[str]:
    bodies = [f"message {n:03d}" for n in range(first, first + count)]
    await asyncio.gather(*(world.store.queue_draft(Draft(ANA, body), body) for body in bodies))
    return bodies


async def all_sent(world: EmulatedInbox, count: int, seconds: float = 60) -> None:
    def done(rows: list[tuple[int]]) -> bool:
        return rows[0][0] == count

    await eventually(lambda: _count_with_sid(world), done, seconds)


async def _count_with_sid(world: EmulatedInbox) -> list[tuple[int]]:
    outbound = await world.store.list_messages(MessageQuery(direction=Direction.OUTBOUND, limit=100_000))
    return [(sum(message.sid is not None for message in outbound),)]


async def created(world: EmulatedInbox) -> Counter[str]:
    """How many times the emulator created each body."""
    return Counter(e["params"]["Body"] for e in await world.emulator.sent() if e["outcome"].get("sid"))


class Process:
    """A subprocess whose stderr goes to a file (read it with `log()`); stopped when the test ends."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(command, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(20):
                    while self.popen.poll() is None:  # noqa: ASYNC110 - a process, not a task
                        await asyncio.sleep(0.05)
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        self._log.close()


@contextlib.contextmanager
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            if process.popen.poll() is None:
                process.popen.kill()
                process.popen.wait()


async def wait_healthy(url: str, process: Process) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(400):
            assert process.popen.poll() is None, process.log()
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError("the server did not become healthy:\n" + process.log())


def serve(world: EmulatedInbox, name: str, tmp_path: Path, rate: float) -> tuple[Process, str]:
    """A real `wa-inbox serve` on the world's database, on a port of its own, sending `rate` a second."""
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    config = tmp_path / f"{name}.toml"
    config.write_text(f"[outbox]\nrate_per_second = {rate}\n")
    command = [sys.executable, "-m", "wa_inbox", "serve", "--port", str(port), "--config", str(config)]
    return Process(command, cli_env(world.settings), tmp_path / f"{name}.log"), f"http://127.0.0.1:{port}"


def sender(world: EmulatedInbox, role: str, tmp_path: Path) -> Process:
    """The outbox's sender alone in a process, with the tests' short lease."""
    timing = [str(QUICK_LEASE.seconds), str(QUICK_LEASE.heartbeat), str(QUICK_LEASE.poll)]
    command = [sys.executable, "-m", "tests.support.sender", role, *timing]
    env = {
        **cli_env(world.settings),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return Process(command, env, tmp_path / f"{role}.log")


async def holder(world: EmulatedInbox, prefix: str) -> str:
    lease = await eventually(
        world.store.sender_lease, lambda lease: lease is not None and lease.owner.startswith(prefix)
    )
    assert lease is not None
    return lease.owner


async def test_a_second_serve_on_the_same_database_stands_by_and_nothing_is_sent_twice(
    tmp_path: Path, database: Path | DatabaseUrl
) -> None:
    """The issue's case: a second `serve` starts while the first one has messages in flight.

    Messages are topped up until the second is up, so that it starts amid a backlog in flight
    however long it takes to start.
    """
    async with world_without_a_sender(tmp_path, create_delay=(0.02, 0.1), database=database) as world:
        bodies = await queue(world, 60)
        with processes() as started:
            first, first_url = serve(world, "first", tmp_path, rate=30)
            started.append(first)
            await wait_healthy(first_url, first)
            owner = await holder(world, "serve@")
            await eventually(world.emulator.sent, lambda sent: len(sent) >= 10)

            second, second_url = serve(world, "second", tmp_path, rate=30)
            started.append(second)
            while "standing by" not in second.log():
                assert second.popen.poll() is None, second.log()
                if len(bodies) - len(await world.emulator.sent()) < 40:
                    bodies += await queue(world, 20, first=len(bodies))
                await asyncio.sleep(0.05)
            await wait_healthy(second_url, second)
            assert len(await world.emulator.sent()) < len(bodies)  # it started amid the sending
            await all_sent(world, len(bodies))
            await asyncio.sleep(0.5)  # time for anything sent twice to land
            times = await created(world)
            lease = await world.store.sender_lease()
            await second.stop()
            await first.stop()

    assert set(times) == set(bodies)
    assert [body for body, n in times.items() if n > 1] == []
    assert lease is not None and lease.owner == owner
    assert f"standing by: {owner} holds the sender lease until" in second.log()
    assert "recovering message" not in second.log()
    assert f"this process sends: it holds the sender lease as {owner} (term 1)" in first.log()
    assert "templates" in first.log() and "templates" not in second.log()  # the holder's duty alone


async def test_a_killed_sender_s_claims_are_taken_over_after_its_lease_and_sent_once(
    tmp_path: Path, database: Path | DatabaseUrl
) -> None:
    count = 50
    # 16 creates in flight at a time, each landing within 0.8 s: before the lease (1.5 s) lets a
    # successor look for it.
    async with world_without_a_sender(tmp_path, create_delay=(0.4, 0.8), database=database) as world:
        with processes() as started:
            first = sender(world, "first", tmp_path)
            started.append(first)
            dead = await holder(world, "first@")
            second = sender(world, "second", tmp_path)
            started.append(second)
            await eventually(lambda: asyncio.sleep(0, second.log()), lambda log: "standing by" in log)
            bodies = await queue(world, count)
            await eventually(world.emulator.sent, lambda sent: len(sent) >= 15)

            first.popen.send_signal(signal.SIGKILL)  # creates in flight, claims unsent, lease kept
            first.popen.wait()
            lease = await world.store.sender_lease()
            assert lease is not None and lease.owner == dead
            assert len(await world.emulator.sent()) < count

            await all_sent(world, count)
            successor = await holder(world, "second@")
            await asyncio.sleep(0.5)
            times = await created(world)
            await second.stop()

    assert set(times) == set(bodies)
    assert [body for body, n in times.items() if n > 1] == []
    log = second.log()
    assert f"standing by: {dead} holds the sender lease until" in log
    assert f"holds the sender lease as {successor} (term 2), taken over from {dead}" in log
    assert "recovering message" in log
    assert "was already at Twilio as" in log  # a create in flight at the kill: looked up, not resent


class Running:
    """An outbox's sender task in this process, as the runtime starts it, with the short lease."""

    def __init__(self, world: EmulatedInbox, client: Client) -> None:
        self.outbox = Outbox(world.settings, world.store, client, lease=QUICK_LEASE)
        self._task = asyncio.create_task(self.outbox.run())

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def running(world: EmulatedInbox, client: Client) -> AsyncIterator[Running]:
    sender = Running(world, client)
    try:
        yield sender
    finally:
        await sender.stop()


@contextlib.asynccontextmanager
async def twilio(world: EmulatedInbox) -> AsyncIterator[Client]:
    client = make_twilio_client(world.settings)
    try:
        yield client
    finally:
        await client.http_client.close()  # type: ignore[attr-defined]


async def logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    await eventually(lambda: asyncio.sleep(0, caplog.text), lambda log: text in log)


async def test_the_store_tells_who_sends_and_a_stopped_sender_hands_over_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wa_inbox.gateway")
    async with world_without_a_sender(tmp_path, create_delay=(0, 0)) as world, twilio(world) as client:
        assert await world.store.sender_lease() is None  # the status line's "no sender"
        async with running(world, client) as first, running(world, client) as second:
            lease = await eventually(world.store.sender_lease, lambda lease: lease is not None)
            assert lease is not None
            this, other = (first, second) if lease.owner == first.outbox.owner else (second, first)
            assert lease.owner == this.outbox.owner  # "sending: this process", for `this` one
            await logged(caplog, f"standing by: {this.outbox.owner} holds the sender lease until")

            stopped_at = asyncio.get_running_loop().time()
            await this.stop()  # nothing in flight: the lease is given back
            await eventually(
                world.store.sender_lease,
                lambda lease: lease is not None and lease.owner == other.outbox.owner,
            )
            assert asyncio.get_running_loop().time() - stopped_at < QUICK_LEASE.seconds
            await queue(world, 3)
            await all_sent(world, 3)


async def test_a_sender_that_lost_its_lease_stops_claiming_and_stands_by(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its lease taken while it was stalled (here: the row rewritten by hand), it sends nothing more."""
    caplog.set_level(logging.INFO, logger="wa_inbox.gateway")
    async with (
        world_without_a_sender(tmp_path, create_delay=(0, 0)) as world,
        twilio(world) as client,
        running(world, client) as sender,
    ):
        await queue(world, 2)
        await all_sent(world, 2)
        with sqlite3.connect(world.settings.store.path) as conn:
            conn.execute(
                "UPDATE sender_lease SET owner = 'thief@elsewhere:1.beef', term = term + 1,"
                " expires_at = '2999-01-01T00:00:00.000000Z'"
            )
        await logged(caplog, "standing by: thief@elsewhere:1.beef holds the sender lease")
        await queue(world, 2, first=2)
        await asyncio.sleep(3 * QUICK_LEASE.heartbeat)
        assert len(await world.emulator.sent()) == 2
        lease = await world.store.sender_lease()
        assert lease is not None and lease.owner != sender.outbox.owner
    assert "stopped sending (the sender lease lapsed; now thief@elsewhere:1.beef holds it" in caplog.text
