"""The sender lease, on every backend: acquire, renew, expire, take over, give back; fenced claims."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.store.conftest import Backend
from tests.support.store import ANA, Clock
from wa_inbox.domain.lease import Lease
from wa_inbox.domain.policy import Draft
from wa_inbox.store import Store

A, B = "serve@one:101.aaaa", "serve@two:202.bbbb"
LEASE = timedelta(seconds=15)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(backend: Backend, clock: Clock) -> AsyncIterator[Store]:
    opened = await backend.open(clock)
    yield opened
    await opened.close()


async def claims(backend: Backend) -> list[tuple[int, str, str | None, int | None]]:
    """Each message's status and the lease it was claimed under (which the protocol does not return)."""
    return await backend.rows("SELECT id, status, sending_owner, sending_term FROM messages ORDER BY id")


async def queue(store: Store, n: int) -> None:
    for i in range(n):
        await store.queue_draft(Draft(ANA, f"message {i}"), f"key-{i}")


async def test_the_first_sender_takes_the_lease_and_the_second_is_told_who_holds_it(
    store: Store, clock: Clock
) -> None:
    assert await store.sender_lease() is None

    mine = await store.acquire_sender_lease(A, LEASE)
    theirs = await store.acquire_sender_lease(B, LEASE)

    assert (mine.owner, mine.term) == (A, 1)
    assert mine.acquired_at == mine.renewed_at == clock.now and mine.expires_at == clock.now + LEASE
    assert theirs == mine  # B did not get it: it is A's, until then
    assert await store.sender_lease() == mine


async def test_a_renewal_extends_the_lease_in_the_same_term(store: Store, clock: Clock) -> None:
    first = await store.acquire_sender_lease(A, LEASE)
    clock.advance(5)

    renewed = await store.acquire_sender_lease(A, LEASE)

    assert (renewed.owner, renewed.term, renewed.acquired_at) == (A, 1, first.acquired_at)
    assert renewed.renewed_at == clock.now and renewed.expires_at == clock.now + LEASE
    clock.advance(14)  # past the first expiry, within the renewed one
    assert (await store.acquire_sender_lease(B, LEASE)).owner == A


async def test_an_expired_lease_is_nobody_s_and_is_taken_by_the_next_sender(
    store: Store, clock: Clock
) -> None:
    await store.acquire_sender_lease(A, LEASE)
    clock.advance(14.999)
    assert await store.sender_lease() is not None
    clock.advance(0.001)  # expires_at itself: no longer held

    assert await store.sender_lease() is None
    stolen = await store.acquire_sender_lease(B, LEASE)

    assert (stolen.owner, stolen.term, stolen.acquired_at) == (B, 2, clock.now)
    assert await store.acquire_sender_lease(A, LEASE) == stolen  # A's late heartbeat finds B
    assert await store.sender_lease() == stolen


async def test_a_lapsed_lease_taken_again_by_its_owner_starts_a_new_term(store: Store, clock: Clock) -> None:
    await store.acquire_sender_lease(A, LEASE)
    clock.advance(16)

    again = await store.acquire_sender_lease(A, LEASE)

    assert (again.owner, again.term) == (A, 2)


async def test_a_released_lease_is_taken_at_once(store: Store, clock: Clock) -> None:
    await store.acquire_sender_lease(A, LEASE)
    assert not await store.release_sender_lease(B)  # not B's to give back
    assert await store.sender_lease() is not None

    assert await store.release_sender_lease(A)
    assert await store.sender_lease() is None
    assert not await store.release_sender_lease(A)  # nothing left to give back
    taken = await store.acquire_sender_lease(B, LEASE)
    assert (taken.owner, taken.term) == (B, 2)


async def test_only_the_live_holder_claims_and_each_claim_records_its_lease(
    store: Store, clock: Clock, backend: Backend
) -> None:
    await queue(store, 3)
    lease = await store.acquire_sender_lease(A, LEASE)
    impostor = replace(lease, owner=B)

    assert await store.claim_unsent(5, lease=impostor) == []
    (first,) = await store.claim_unsent(1, lease=lease)
    clock.advance(15)  # A's lease has run out: its claims stop
    assert await store.claim_unsent(5, lease=lease) == []

    assert await claims(backend) == [
        (first.id, "sending", A, 1),
        (first.id + 1, "pending", None, None),
        (first.id + 2, "pending", None, None),
    ]


async def test_the_next_holder_takes_over_only_claims_of_ended_leases(
    store: Store, clock: Clock, backend: Backend
) -> None:
    await queue(store, 4)
    a = await store.acquire_sender_lease(A, LEASE)
    (left_by_a,) = await store.claim_unsent(1, lease=a)
    (unowned,) = await store.claim_unsent(1)  # claimed without a lease (older version, tests)
    b_too_soon = replace(a, owner=B)
    assert await store.take_over_sending(b_too_soon) == []  # A is live: nothing is B's to take

    clock.advance(15)  # A died: its lease runs out
    b = await store.acquire_sender_lease(B, LEASE)
    (b_own,) = await store.claim_unsent(1, lease=b)
    taken = await store.take_over_sending(b)

    assert [job.id for job in taken] == [left_by_a.id, unowned.id]  # not B's own claim
    assert taken[0].sending_started_at == left_by_a.sending_started_at  # the look-up window stays
    assert await store.take_over_sending(b) == []  # now B's: not taken twice
    assert await claims(backend) == [
        (left_by_a.id, "sending", B, 2),
        (unowned.id, "sending", B, 2),
        (b_own.id, "sending", B, 2),
        (b_own.id + 1, "pending", None, None),
    ]


async def test_two_stores_on_one_database_never_both_hold_the_lease(backend: Backend) -> None:
    """Two writers (each store has its own process) race for a short lease; each holder now and then
    stalls past it. Every term has one owner, and begins only once the term before has expired."""
    one, two = await backend.open(), await backend.open()
    short = timedelta(milliseconds=40)
    seen: list[Lease] = []
    rng = random.Random(11)

    async def contend(store: Store, owner: str) -> None:
        for _ in range(60):
            lease = await store.acquire_sender_lease(owner, short)
            seen.append(lease)
            stall = rng.random() < 0.2 and lease.owner == owner
            await asyncio.sleep(0.06 if stall else 0.005)

    try:
        await asyncio.gather(contend(one, A), contend(two, B))
    finally:
        await one.close()
        await two.close()

    terms: dict[int, list[Lease]] = {}
    for lease in seen:
        terms.setdefault(lease.term, []).append(lease)
    assert len(terms) > 2  # the lease did change hands
    assert all(len({lease.owner for lease in held}) == 1 for held in terms.values())
    ordered = sorted(terms)
    assert ordered == list(range(1, len(ordered) + 1))
    for earlier, later in itertools.pairwise(ordered):
        assert max(lease.expires_at for lease in terms[earlier]) <= terms[later][0].acquired_at
