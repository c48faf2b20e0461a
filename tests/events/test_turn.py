"""Which process publishes: the one whose sender holds the sender lease, as `serve` and the inbox run
it (`running_inbox`), against a real broker.

With a sender (the emulated inbox: Twilio's emulator, the receiver, the sender), a customer's message
and the status callbacks of our reply reach both topics. Without one (receiving only), the relay
publishes while no process holds the lease and stands by while another does, never taking the lease
itself (a `wa-inbox send` on the same database could not send otherwise). That one runs on both
backends: on PostgreSQL the lease, the outbox and the webhook's commit are the shared database's.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.broker import EVENTS, Broker, consumer, read_until
from tests.support.postgres import fresh_database
from tests.support.receiver import INBOUND, Receiver, make_settings, text_form
from tests.support.world import eventually, quick
from wa_inbox.config import EventSettings, Settings
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.events import INBOUND_TOPIC, STATUS_TOPIC
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.event_relay import RelayTiming
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.running.events import publisher_turn
from wa_inbox.running.inbox import running_inbox
from wa_inbox.running.sockets import bind
from wa_inbox.store import open_store
from wa_inbox.testing import emulated_inbox

ANA = "whatsapp:+5511987654321"
FIRST, SECOND = "SM" + "1" * 32, "SM" + "2" * 32
QUICK = RelayTiming(poll=0.05, backoff_first=0.05, backoff_max=0.4, request_timeout=2.0)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | DatabaseUrl:
    """The database the inbox runs on: a SQLite file, or a fresh PostgreSQL one (`tests/support/postgres`)."""
    return fresh_database() if request.param == "postgres" else tmp_path / "inbox.db"


def with_events(settings: Settings, broker: Broker) -> Settings:
    events = EventSettings.model_validate({"kafka_bootstrap": broker.bootstrap, **EVENTS})
    return settings.model_copy(update={"events": events})


async def test_the_sending_process_publishes_inbound_and_status_events(
    tmp_path: Path, broker: Broker
) -> None:
    changes = lambda settings: with_events(quick(settings), broker)  # noqa: E731
    async with emulated_inbox(tmp_path / "inbox.db", changes, status_delay=(0.002, 0.01), seed=7) as world:
        assert world.outbox is not None
        inbound_sid = await world.emulator.customer_says(ANA, "Olá, meu pedido?")
        await eventually(lambda: world.store.get_message(inbound_sid), lambda message: message is not None)
        await world.outbox.submit(Draft(ANA, "Já verifiquei: chega amanhã."))
        async with consumer(broker.bootstrap, INBOUND_TOPIC, STATUS_TOPIC) as reader:
            records = await read_until(
                reader, lambda got: any(json.loads(r.value).get("status") == "read" for r in got)
            )
        assert world.outbox.holds_sender_lease

    inbound = [json.loads(r.value) for r in records if r.topic == INBOUND_TOPIC]
    statuses = [json.loads(r.value)["status"] for r in records if r.topic == STATUS_TOPIC]
    assert [(e["message_sid"], e["from"], e["body"]) for e in inbound] == [
        (inbound_sid, ANA, "Olá, meu pedido?")
    ]
    assert statuses[-1] == "read" and "delivered" in statuses
    assert {r.key for r in records} == {ANA}


async def test_without_a_sender_it_publishes_while_nobody_holds_the_lease(
    database: Path | DatabaseUrl, broker: Broker
) -> None:
    sock = bind()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(url, database, events={"kafka_bootstrap": broker.bootstrap, **EVENTS})
    store = await open_store(database)
    try:
        async with (
            running_inbox(settings, store, sock, send=False, relay_timing=QUICK),
            consumer(broker.bootstrap, INBOUND_TOPIC) as reader,
            httpx.AsyncClient(timeout=10) as client,
        ):
            receiver = Receiver(url, store, database, client)
            assert (await receiver.post(INBOUND, text_form(FIRST, body="first"))).status_code == 200
            first = await read_until(reader, lambda got: len(got) == 1)

            held = await store.acquire_sender_lease("serve@elsewhere:1.abcd", timedelta(minutes=1))
            assert (await receiver.post(INBOUND, text_form(SECOND, body="second"))).status_code == 200
            await asyncio.sleep(0.5)  # ten of the relay's looks: it stands by
            assert (await store.event_backlog()).pending == 1
            assert await store.sender_lease() == held  # the relay never took the lease

            assert await store.release_sender_lease("serve@elsewhere:1.abcd")
            second = await read_until(reader, lambda got: len(got) == 1)
            await eventually(store.event_backlog, lambda backlog: backlog.pending == 0)
    finally:
        await store.close()

    assert [json.loads(r.value)["body"] for r in first + second] == ["first", "second"]
    marked = receiver.rows("SELECT idempotency_key, published_at IS NOT NULL FROM events ORDER BY id")
    assert marked == [(FIRST, True), (SECOND, True)]


async def test_a_process_whose_sender_stands_by_does_not_publish(tmp_path: Path) -> None:
    """The turn of a process with a sender follows that sender's hold on the lease, nothing else."""
    async with emulated_inbox(tmp_path / "inbox.db", quick) as world:
        assert world.outbox is not None
        holder = publisher_turn(world.store, world.outbox)
        assert await eventually(holder, lambda mine: mine) is True
        standing_by = Outbox(world.settings, world.store, world.outbox.client)  # a second sender, waiting
        assert await publisher_turn(world.store, standing_by)() is False
        assert await world.store.sender_lease() is not None
