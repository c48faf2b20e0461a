"""A request whose answer never came back is looked up at Twilio before anything is sent again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
from twilio.rest import Client

from tests.support.world import QUICK_LEASE, customer_writes, eventually, quick
from wa_inbox.domain.models import OutboundJob
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"


class AnswerLost(httpx.AsyncBaseTransport):
    """Delivers the first message create to Twilio, then drops the answer: a timeout after sending."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.dropped = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/Messages.json") and not self.dropped:
            await response.aread()
            self.dropped += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def wait_sid(world: EmulatedInbox, message_id: int) -> str:
    message = await eventually(
        lambda: world.store.get_message_by_id(message_id), lambda m: m is not None and m.sid is not None
    )
    assert message is not None and message.sid is not None
    return message.sid


async def test_timeout_after_the_request_reached_twilio_sends_no_duplicate(tmp_path: Path) -> None:
    lossy = AnswerLost()
    async with emulated_inbox(
        tmp_path / "inbox.db", quick, twilio_transport=lossy, status_delay=(0, 0.01)
    ) as world:
        assert world.outbox is not None
        await customer_writes(world, ANA)

        message_id = await world.outbox.submit(Draft(ANA, "Only once, please"))

        sid = await wait_sid(world, message_id)
        final = await eventually(
            lambda: world.store.get_message(sid), lambda m: m is not None and m.status == "read"
        )
        sent = await world.emulator.sent()
    assert final is not None and final.id == message_id  # the callbacks' placeholder was folded in
    assert lossy.dropped == 1
    assert len(sent) == 1
    assert sent[0]["outcome"]["sid"] == sid


DEAD = "serve@elsewhere:4242.dead"


async def claimed_by_a_dead_sender(world: EmulatedInbox, draft: Draft, key: str) -> OutboundJob:
    """Queued and claimed under a sender's lease, then that sender died: its lease is left to expire."""
    lease = await world.store.acquire_sender_lease(DEAD, timedelta(seconds=QUICK_LEASE.seconds))
    await world.store.queue_draft(draft, key)
    (job,) = await world.store.claim_unsent(1, lease=lease)
    return job


@contextlib.asynccontextmanager
async def successor(world: EmulatedInbox, client: Client) -> AsyncIterator[Outbox]:
    """A sender started after the crash, on the same database, until the block ends."""
    outbox = Outbox(world.settings, world.store, client, lease=QUICK_LEASE)
    task = asyncio.create_task(outbox.run())
    try:
        yield outbox
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_crash_after_the_request_left_adopts_twilio_s_message(tmp_path: Path) -> None:
    async with emulated_inbox(tmp_path / "inbox.db", quick, send=False, status_delay=(0, 0.01)) as world:
        await customer_writes(world, ANA)
        client = make_twilio_client(world.settings)
        try:
            job = await claimed_by_a_dead_sender(world, Draft(ANA, "Sent just before the crash"), "key-1")
            dead = Outbox(world.settings, world.store, client)
            await client.messages.create_async(**dead._create_params(job))  # then the process died

            async with successor(world, client):
                sid = await wait_sid(world, job.id)
        finally:
            await client.http_client.close()
        sent = await world.emulator.sent()
    assert [entry["outcome"]["sid"] for entry in sent] == [sid]


async def test_crash_before_the_request_left_sends_it_once_at_recovery(tmp_path: Path) -> None:
    async with emulated_inbox(tmp_path / "inbox.db", quick, send=False, status_delay=(0, 0.01)) as world:
        await customer_writes(world, ANA)
        client = make_twilio_client(world.settings)
        try:
            job = await claimed_by_a_dead_sender(world, Draft(ANA, "Never left"), "key-2")

            async with successor(world, client):
                await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 1)
                await wait_sid(world, job.id)
            async with successor(world, client):  # a second start finds nothing left to do
                await eventually(world.store.sender_lease, lambda lease: lease is not None)
                await asyncio.sleep(0.3)
        finally:
            await client.http_client.close()
        assert len(await world.emulator.sent()) == 1


async def test_a_claim_without_a_lease_is_recovered_like_one_from_an_older_version(tmp_path: Path) -> None:
    async with emulated_inbox(tmp_path / "inbox.db", quick, send=False, status_delay=(0, 0.01)) as world:
        await customer_writes(world, ANA)
        client = make_twilio_client(world.settings)
        try:
            await world.store.queue_draft(Draft(ANA, "Claimed before leases"), "key-3")
            (job,) = await world.store.claim_unsent(1)  # no owner, no term

            async with successor(world, client):
                await wait_sid(world, job.id)
        finally:
            await client.http_client.close()
        assert len(await world.emulator.sent()) == 1
