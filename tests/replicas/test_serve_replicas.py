"""Three real `wa-inbox serve` replicas on one PostgreSQL database, as behind a load balancer: they share
one public URL (every signature is over it) and each listens on a port of its own. Webhooks are spread
over them, each one also retried at another replica, status callbacks shuffled; one replica is killed
with `kill -9` mid-burst, and what it did not acknowledge is retried at the others, as Twilio retries.
An attached store follows the change feed all along, as an agent's inbox on another machine would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from pathlib import Path

import httpx

from tests.gateway.test_sender_lease import Process, processes, wait_healthy
from tests.support.postgres import fresh_database, rows
from tests.support.receiver import CUSTOMER, INBOUND, STATUS, TOKEN, sign, status_form, text_form
from wa_inbox.domain.policy import Draft
from wa_inbox.running.sockets import bind
from wa_inbox.store import Store, open_store

PUBLIC = "https://inbox.example.com"
"""The load balancer's address: Twilio signs every webhook for it, whichever replica takes it."""
STATUSES = ("sent", "delivered", "read")
REPLICAS = 3


def serve(database: str, name: str, tmp_path: Path) -> tuple[Process, str]:
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "WA_INBOX_DB": database,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": PUBLIC,
        "XDG_DATA_HOME": str(tmp_path / name),
    }
    command = [sys.executable, "-m", "wa_inbox", "serve", "--port", str(port)]
    return Process(command, env, tmp_path / f"{name}.log"), f"http://127.0.0.1:{port}"


async def deliver(client: httpx.AsyncClient, urls: list[str], path: str, form: dict[str, str]) -> None:
    """Post until a replica acknowledges it: one that is down (killed) is skipped, as a balancer would,
    and a request it never answered is retried at the next one, as Twilio does."""
    for url in random.sample(urls, len(urls)) * 3:
        try:
            response = await client.post(
                url + path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)}
            )
        except httpx.TransportError:
            continue
        assert response.status_code in (200, 204), response.text
        return
    raise AssertionError(f"no replica acknowledged {form['MessageSid']}")


async def follow(store: Store, seen: dict[str, str], since: int) -> None:
    """An attached inbox: every message's latest status, as the change feed tells it."""
    seq = since
    async for _ in store.changes():
        more = True
        while more:
            changes = await store.changes_since(seq)
            for message in changes.messages:
                if message.sid:
                    seen[message.sid] = message.status
            seq, more = changes.seq, changes.more


async def test_three_replicas_one_killed_mid_burst_keep_every_promise(tmp_path: Path) -> None:
    database = fresh_database()
    watcher = await open_store(database)
    sent = []
    for n in range(20):
        message_id = await watcher.queue_draft(Draft(CUSTOMER, f"resposta {n}"), f"key-{n}")
        assert message_id is not None
        sid = f"SM{'f' * 24}{n:08x}"
        await watcher.record_accepted(message_id, sid, "queued", None, None)
        sent.append(sid)
    seen: dict[str, str] = {}
    following = asyncio.create_task(follow(watcher, seen, await watcher.change_number()))
    inbound = [f"SM{n:032x}" for n in range(1, 151)]
    webhooks = [(INBOUND, text_form(sid, body=f"pergunta {sid[-3:]}")) for sid in inbound]
    webhooks += [(STATUS, status_form(sid, status)) for sid in sent for status in STATUSES]
    webhooks *= 2  # each one retried
    random.Random(11).shuffle(webhooks)
    try:
        with processes() as started:
            replicas = [serve(database.conninfo, f"replica{n}", tmp_path) for n in range(REPLICAS)]
            started.extend(process for process, _ in replicas)
            urls = [url for _, url in replicas]
            for process, url in replicas:
                await wait_healthy(url, process)
            async with httpx.AsyncClient(timeout=20) as client:
                third = len(webhooks) // 3
                first = [deliver(client, urls, path, form) for path, form in webhooks[:third]]
                await asyncio.gather(*first)
                victim, _ = replicas[1]
                burst = asyncio.gather(
                    *(deliver(client, urls, path, form) for path, form in webhooks[third:])
                )
                await asyncio.sleep(0.05)
                assert not burst.done()
                victim.popen.send_signal(signal.SIGKILL)  # mid-burst, requests in flight
                await burst
            for process, _ in replicas:
                await process.stop()
        async with asyncio.timeout(10):
            while not all(seen.get(sid) == "read" for sid in sent) or not set(inbound) <= set(seen):  # noqa: ASYNC110 - filled by the feed task
                await asyncio.sleep(0.05)
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await watcher.close()

    assert victim.popen.returncode == -signal.SIGKILL
    assert rows(database, "SELECT COUNT(*), COUNT(DISTINCT sid) FROM messages WHERE direction = 'in'") == [
        (150, 150)
    ]
    assert rows(database, "SELECT DISTINCT status FROM messages WHERE direction = 'out'") == [("read",)]
    assert rows(database, "SELECT COUNT(*) FROM status_events") == [(20 * 3,)]
    assert rows(database, "SELECT unread FROM conversations WHERE address = ?", [CUSTOMER]) == [(150,)]
