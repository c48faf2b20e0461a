"""Several processes writing one PostgreSQL database at once (READ COMMITTED): each store here has its
own connection pool, as each replica or inbox does, and the writes race for real on the server.

The promises raced: a claim never hands one message to two senders (`SKIP LOCKED`), a claim under a
lease that is changing hands is either seen by the new holder or refused, a webhook ingested by many
receivers at once is stored once (unique keys), and shuffled concurrent callbacks leave every message
at its highest status, folded into our row when the acceptance races them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import psycopg
import pytest

from tests.support import postgres as server
from tests.support.store import ANA, BUSINESS, record, sid
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.lease import Lease
from wa_inbox.domain.models import InboundMessage, StatusUpdate, WebhookKind
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store import Store, open_store
from wa_inbox.store.postgres import lease
from wa_inbox.store.postgres.tx import Tx

A, B = "serve@one:101.aaaa", "serve@two:202.bbbb"


@pytest.fixture
def url() -> DatabaseUrl:
    return server.fresh_database()


@pytest.fixture
async def stores(url: DatabaseUrl) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database: two processes' worth of connections."""
    one = await open_store(url)
    two = await open_store(url)
    yield one, two
    await one.close()
    await two.close()


async def rows(url: DatabaseUrl, sql: str, *params: object) -> list[tuple[object, ...]]:
    return await server.async_rows(url, sql, params)


async def queue(store: Store, n: int) -> list[int]:
    """`n` drafts queued at once; their ids, ascending."""
    ids = await asyncio.gather(*(store.queue_draft(Draft(ANA, f"message {i}"), f"key-{i}") for i in range(n)))
    assert None not in ids
    return sorted(i for i in ids if i is not None)


async def test_concurrent_claims_never_share_a_message(url: DatabaseUrl, stores: tuple[Store, Store]) -> None:
    """16 claimers on two stores, under one live lease, take small bites of 200 messages until none
    is pending: each message is claimed by exactly one of them, once."""
    queued = await queue(stores[0], 200)
    lease = await stores[0].acquire_sender_lease(A, timedelta(minutes=5))
    rng = random.Random(7)

    async def claimer(store: Store) -> list[int]:
        mine: list[int] = []
        while True:
            jobs = await store.claim_unsent(rng.randint(1, 5), lease=lease)
            mine.extend(job.id for job in jobs)
            if not jobs and await rows(url, "SELECT 1 FROM messages WHERE status = 'pending'") == []:
                return mine

    claimed = await asyncio.gather(*(claimer(stores[n % 2]) for n in range(16)))

    every = [message_id for ids in claimed for message_id in ids]
    assert sorted(every) == queued  # all of them, none twice
    assert sum(1 for ids in claimed if ids) > 2  # the claimers did share the work
    assert await rows(
        url,
        "SELECT status, attempts, sending_owner, sending_term, COUNT(*) FROM messages GROUP BY 1, 2, 3, 4",
    ) == [("sending", 1, A, 1, 200)]


async def test_a_claim_racing_a_change_of_hands_is_taken_over_or_refused(
    url: DatabaseUrl, stores: tuple[Store, Store]
) -> None:
    """A claims one message at a time while its short lease runs out; B takes the lease the moment
    it can and takes over what A left. Whatever A managed to claim, B's take-over found: no message
    stays `sending` under A's ended term."""
    one, two = stores
    await queue(one, 300)
    a = await one.acquire_sender_lease(A, timedelta(milliseconds=150))

    async def sender_a() -> int:
        claimed = 0
        while jobs := await one.claim_unsent(1, lease=a):
            claimed += len(jobs)
        return claimed

    async def sender_b() -> tuple[Lease, list[int]]:
        while True:
            b = await two.acquire_sender_lease(B, timedelta(minutes=5))
            if b.owner == B:
                return b, [job.id for job in await two.take_over_sending(b)]
            await asyncio.sleep(0.001)  # A's lease has not run out yet

    claimed_by_a, (b, taken) = await asyncio.gather(sender_a(), sender_b())

    assert 0 < claimed_by_a < 300 and b.term == 2  # A claimed, and was cut off by its lease's end
    assert len(taken) == claimed_by_a  # every claim of A's, none missed
    assert await rows(
        url, "SELECT COUNT(*) FROM messages WHERE status = 'sending' AND sending_term <> 2"
    ) == [(0,)]


async def test_a_claim_in_progress_holds_the_lease_until_it_commits(
    url: DatabaseUrl, stores: tuple[Store, Store]
) -> None:
    """The fence itself, step by step: a claim's transaction that has checked A's lease (while it
    was live) keeps it A's until it commits, even once it has run out; B's takeover waits for it."""
    one, two = stores
    a = await one.acquire_sender_lease(A, timedelta(milliseconds=100))
    async with await psycopg.AsyncConnection.connect(url.conninfo, autocommit=True) as conn:
        async with conn.transaction():
            assert await lease.holds(Tx(conn, a.renewed_at), A, a.term)  # a claim, midway
            await asyncio.sleep(0.15)  # A's lease has run out
            taking = asyncio.ensure_future(two.acquire_sender_lease(B, timedelta(minutes=5)))
            await asyncio.sleep(0.3)
            assert not taking.done()  # B waits for the claim
        b = await taking

    assert (b.owner, b.term) == (B, a.term + 1)


async def test_one_webhook_ingested_by_many_receivers_at_once_is_stored_once(
    url: DatabaseUrl, stores: tuple[Store, Store]
) -> None:
    """Twilio's retries of each of 10 STOP messages reach 8 receivers (over two stores) at the same
    time: one True per message, one row, one opt-out with its audit row, one confirmation queued,
    and each request in the raw log (one accepted, the rest duplicates)."""
    n_webhooks, copies = 10, 8

    async def ingest(store: Store, n: int) -> bool:
        address = f"whatsapp:+55119876{n:05d}"
        message = InboundMessage(sid(n), address, BUSINESS, "STOP", profile_name=f"customer {n}")
        return await store.ingest_inbound(message, record(sid(n)), OptAction.STOP, "You are unsubscribed.")

    results = await asyncio.gather(
        *(ingest(stores[c % 2], n) for n in range(n_webhooks) for c in range(copies))
    )

    per_webhook = [results[n * copies : (n + 1) * copies] for n in range(n_webhooks)]
    assert [sum(outcomes) for outcomes in per_webhook] == [1] * n_webhooks
    assert await rows(url, "SELECT direction, COUNT(*) FROM messages GROUP BY 1 ORDER BY 1") == [
        ("in", n_webhooks),
        ("out", n_webhooks),  # the confirmations, one each
    ]
    assert await rows(url, "SELECT COUNT(*), COUNT(DISTINCT address) FROM opt_events") == [
        (n_webhooks, n_webhooks)
    ]
    assert await rows(url, "SELECT COUNT(*) FROM contacts WHERE opted_out") == [(n_webhooks,)]
    assert await rows(url, "SELECT verdict, COUNT(*) FROM webhook_log GROUP BY 1 ORDER BY 1") == [
        ("accepted", n_webhooks),
        ("duplicate", n_webhooks * (copies - 1)),
    ]


STATUSES = ["queued", "sent", "delivered", "read"]


async def test_shuffled_concurrent_callbacks_end_at_the_highest_status(
    url: DatabaseUrl, stores: tuple[Store, Store]
) -> None:
    """Each of 20 messages gets every callback twice, all at once and shuffled, over two stores; for
    half of them our `record_accepted` races the callbacks (placeholder or not). Each SID ends as
    one row at `read`, ours keeping its id, and each (SID, status) counts as new once."""
    one, two = stores
    n_messages = 20
    ours = await queue(one, n_messages // 2)
    for message_id in ours:
        assert await one.claim_unsent(1, message_id)
    sids = [f"SM{n:032x}" for n in range(n_messages)]
    rng = random.Random(3)

    async def callback(store: Store, message_sid: str, status: str) -> bool:
        await asyncio.sleep(rng.random() / 100)
        update = StatusUpdate(message_sid, status, to_addr=ANA, from_addr=BUSINESS)
        return await store.ingest_status(update, record(message_sid, WebhookKind.STATUS))

    async def accepted(message_id: int, message_sid: str) -> bool:
        await asyncio.sleep(rng.random() / 100)
        await two.record_accepted(message_id, message_sid, "queued", BUSINESS, None)
        return True

    calls = [(message_sid, status) for message_sid in sids for status in STATUSES * 2]
    rng.shuffle(calls)
    callbacks = [
        callback((one, two)[i % 2], message_sid, status) for i, (message_sid, status) in enumerate(calls)
    ]
    acceptances = [accepted(message_id, sids[i]) for i, message_id in enumerate(ours)]
    results = await asyncio.gather(*callbacks, *acceptances)

    new = [call for call, is_new in zip(calls, results, strict=False) if is_new]
    assert sorted(new) == sorted({(message_sid, status) for message_sid in sids for status in STATUSES})
    assert await rows(url, "SELECT sid, status FROM messages ORDER BY sid") == [(s, "read") for s in sids]
    assert await rows(url, "SELECT id FROM messages WHERE idempotency_key IS NOT NULL ORDER BY id") == [
        (message_id,) for message_id in ours
    ]
    assert [(s, await one.claimed_sids([s])) for s in sids[: len(ours)]] == [
        (s, {s}) for s in sids[: len(ours)]
    ]
