"""Several receivers behind a load balancer, on one PostgreSQL database: each replica is a real receiver
on its own uvicorn port with its own store (its own connection pool), as separate hosts would have.

Twilio retries a webhook wherever the balancer sends it, and status callbacks of one message may reach
different replicas in any order: the promises (one row per message, ticks that never go back, an ack
only after the commit) must hold across them. A hosted file's signed link must work on any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.postgres import fresh_database, rows
from tests.support.receiver import (
    CUSTOMER,
    INBOUND,
    STATUS,
    TOKEN,
    make_settings,
    sign,
    status_form,
    text_form,
)
from wa_inbox.config import Settings
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.media_host import MediaHost
from wa_inbox.receiver.app import create_app
from wa_inbox.running.sockets import bind, serve_in_background
from wa_inbox.store import Store, open_store

STATUSES = ["queued", "sent", "delivered", "read"]


@dataclass
class Replica:
    url: str
    settings: Settings
    store: Store


@contextlib.asynccontextmanager
async def replicas(database: DatabaseUrl, media_dir: Path, count: int = 2) -> AsyncIterator[list[Replica]]:
    """`count` receivers on one database, sharing the media folder (the volume every pod mounts)."""
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            sock = bind()
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            settings = make_settings(url, Path("unused.db"), media={"storage_dir": media_dir})
            settings = settings.model_copy(
                update={"store": settings.store.model_copy(update={"path": database})}
            )
            store = await open_store(database)
            stack.push_async_callback(store.close)
            await stack.enter_async_context(serve_in_background(create_app(settings, store), sock))
            started.append(Replica(url, settings, store))
        yield started


async def post(client: httpx.AsyncClient, replica: Replica, path: str, form: dict[str, str]) -> int:
    """A webhook as Twilio sends it to the balancer's address (here each replica's own)."""
    url = replica.url + path
    response = await client.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form)})
    return response.status_code


def inbound_sid(n: int) -> str:
    return f"SM{n:032x}"


async def test_retries_and_callbacks_spread_over_replicas_keep_every_promise(tmp_path: Path) -> None:
    database = fresh_database()
    async with replicas(database, tmp_path / "media") as (a, b), httpx.AsyncClient(timeout=20) as client:
        # 40 customer messages, each delivered to one replica and retried at the other at once.
        inbound = [text_form(inbound_sid(n), body=f"pergunta {n}") for n in range(40)]
        codes = await asyncio.gather(
            *(post(client, a, INBOUND, form) for form in inbound),
            *(post(client, b, INBOUND, form) for form in inbound),
        )
        # 20 sent messages whose callbacks arrive at both replicas in a shuffled order, some twice.
        sent = []
        for n in range(20):
            message_id = await a.store.queue_draft(Draft(CUSTOMER, f"resposta {n}"), f"key-{n}")
            assert message_id is not None
            sid = f"SM{'f' * 24}{n:08x}"
            await a.store.record_accepted(message_id, sid, "queued", None, "MG" + "2" * 32)
            sent.append(sid)
        callbacks = [(sid, status) for sid in sent for status in STATUSES[1:]] * 2
        random.Random(7).shuffle(callbacks)
        codes += await asyncio.gather(
            *(
                post(client, (a, b)[i % 2], STATUS, status_form(sid, status))
                for i, (sid, status) in enumerate(callbacks)
            )
        )

    assert set(codes[:80]) == {200}  # TwiML for the customer's messages
    assert set(codes[80:]) == {204}  # nothing to say to a status callback
    assert rows(database, "SELECT COUNT(*), COUNT(DISTINCT sid) FROM messages WHERE direction = 'in'") == [
        (40, 40)
    ]
    assert rows(database, "SELECT DISTINCT status FROM messages WHERE direction = 'out'") == [("read",)]
    assert rows(database, "SELECT COUNT(*) FROM status_events") == [(20 * 3,)]
    assert rows(database, "SELECT unread FROM conversations WHERE address = ?", [CUSTOMER]) == [(40,)]
    verdicts = dict(rows(database, "SELECT verdict, COUNT(*) FROM webhook_log GROUP BY verdict"))
    assert verdicts == {"accepted": 40 + 20 * 3, "duplicate": 40 + 20 * 3}


async def test_a_file_hosted_through_one_replica_is_served_by_another(tmp_path: Path) -> None:
    database = fresh_database()
    photo = tmp_path / "recibo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    async with replicas(database, tmp_path / "media") as (a, b), httpx.AsyncClient(timeout=20) as client:
        await post(client, a, INBOUND, text_form(inbound_sid(1)))  # the window is open
        draft = await MediaHost(a.settings, a.store).attach(Draft(CUSTOMER, "o recibo"), photo)
        link = draft.media[0].url
        assert link.startswith(a.url)
        response = await client.get(b.url + link.removeprefix(a.url))

    assert response.status_code == 200
    assert response.content == photo.read_bytes()
    assert response.headers["content-type"] == "image/png"


async def test_a_forged_webhook_is_refused_by_every_replica_and_logged_once_each(tmp_path: Path) -> None:
    database = fresh_database()
    async with replicas(database, tmp_path / "media") as (a, b), httpx.AsyncClient(timeout=20) as client:
        form = text_form(inbound_sid(9))
        codes = [
            (
                await client.post(r.url + INBOUND, data=form, headers={"X-Twilio-Signature": "forged"})
            ).status_code
            for r in (a, b)
        ]

    assert codes == [403, 403]
    assert rows(database, "SELECT COUNT(*) FROM messages") == [(0,)]
    assert rows(database, "SELECT verdict, COUNT(*) FROM webhook_log GROUP BY verdict") == [("forbidden", 2)]
    assert TOKEN not in str(rows(database, "SELECT body, headers FROM webhook_log"))
