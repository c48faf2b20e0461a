"""`wa-inbox serve` with the event stream: `kill -9` with events unpublished (the broker was away) loses
none of them: the next start publishes them all. And the stream is off by default: no event rows, and
no Kafka client loaded."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.broker import Broker, consumer, free_port, read_until
from tests.support.receiver import (
    INBOUND,
    STATUS,
    TOKEN,
    running_receiver,
    sign,
    status_form,
    text_form,
    wait_healthy,
)
from wa_inbox.domain.events import INBOUND_TOPIC, STATUS_TOPIC

WEBHOOKS = 40


def start_serve(tmp_path: Path, port: int, broker_port: int) -> subprocess.Popen[bytes]:
    """Receiving only (no Twilio credentials), its events to the broker at `broker_port`."""
    config = tmp_path / "wa-inbox.toml"
    config.write_text("[events]\nidempotent_producer = false\n")  # Tansu (see tests/support/broker.py)
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WA_INBOX_DB": str(tmp_path / "inbox.db"),
        "WA_INBOX_KAFKA_BOOTSTRAP": f"127.0.0.1:{broker_port}",
        "WA_INBOX_CONFIG": str(config),
    }
    command = [sys.executable, "-m", "wa_inbox", "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def webhooks() -> list[tuple[str, dict[str, str], str]]:
    """Inbound messages and status callbacks, each with the idempotency key of its event."""
    hooks = []
    for n in range(WEBHOOKS):
        sid = f"SM{n:032x}"
        if n % 2:
            hooks.append((INBOUND, text_form(sid, body=f"message {n}"), sid))
        else:
            hooks.append((STATUS, status_form(sid, "delivered"), f"{sid}:delivered"))
    return hooks


def backlog(db_path: Path) -> tuple[int, int]:
    """(events pending, of them tried and failed)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(last_error) FROM events WHERE published_at IS NULL"
        ).fetchone()
    return int(row[0]), int(row[1])


async def test_events_left_unpublished_by_a_killed_server_are_published_after_restart(tmp_path: Path) -> None:
    port, broker = free_port(), Broker(free_port(), tmp_path / "tansu.log")  # not started: Kafka is away
    url = f"http://127.0.0.1:{port}"
    server = start_serve(tmp_path, port, broker.port)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_healthy(client, url)
            for path, form, _ in webhooks():
                answer = await client.post(
                    url + path, data=form, headers={"X-Twilio-Signature": sign(url + path, form)}
                )
                assert answer.is_success
            for _ in range(200):  # the relay tried, and failed: Kafka is not there
                if backlog(tmp_path / "inbox.db") == (WEBHOOKS, WEBHOOKS):
                    break
                await asyncio.sleep(0.05)
        assert backlog(tmp_path / "inbox.db") == (WEBHOOKS, WEBHOOKS)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()

    broker.start()
    restarted = start_serve(tmp_path, port, broker.port)
    try:
        async with consumer(broker.bootstrap, INBOUND_TOPIC, STATUS_TOPIC) as reader:
            expected = {key for _, _, key in webhooks()}
            records = await read_until(
                reader, lambda got: {r.headers["idempotency-key"] for r in got} >= expected
            )
        for _ in range(200):
            if backlog(tmp_path / "inbox.db")[0] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
        broker.stop()

    assert {r.headers["idempotency-key"] for r in records} == expected
    assert backlog(tmp_path / "inbox.db") == (0, 0)


async def test_off_by_default_no_webhook_writes_an_event(tmp_path: Path) -> None:
    async with running_receiver(tmp_path) as receiver:
        assert (await receiver.post(INBOUND, text_form())).status_code == 200
        assert (await receiver.post(STATUS, status_form("SM" + "e" * 32, "sent"))).status_code == 204
        assert await receiver.store.pending_events(10) == []

    assert receiver.rows("SELECT COUNT(*) FROM messages") == [(2,)]
    assert receiver.rows("SELECT COUNT(*) FROM events") == [(0,)]


RUN_INBOX = """
import asyncio, sys
from wa_inbox.config import Settings
from wa_inbox.running.inbox import running_inbox
from wa_inbox.running.sockets import bind
from wa_inbox.store import open_store

async def main(db, events):
    settings = Settings.model_validate({
        "twilio": {"public_base_url": "http://127.0.0.1"}, "store": {"path": db},
        "webhook_auth_token": "x" * 32, "events": events,
    })
    store = await open_store(db)
    async with running_inbox(settings, store, bind(), send=False):
        await asyncio.sleep(0.3)
    await store.close()

asyncio.run(main(sys.argv[1], eval(sys.argv[2])))
print(sorted(m for m in sys.modules if m.split(".")[0] == "aiokafka")[:1])
"""


def kafka_modules_after_a_run(tmp_path: Path, events: dict[str, str]) -> list[str]:
    command = [sys.executable, "-c", RUN_INBOX, str(tmp_path / "inbox.db"), repr(events)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return list(ast.literal_eval(result.stdout.strip().splitlines()[-1]))


def test_off_by_default_serve_loads_no_kafka_client(tmp_path: Path) -> None:
    assert kafka_modules_after_a_run(tmp_path, {}) == []
    on = {"kafka_bootstrap": f"127.0.0.1:{free_port()}"}  # nothing listens: the relay just waits
    assert kafka_modules_after_a_run(tmp_path, on) == ["aiokafka"]
