"""`LeaseKeeper`: one process's hold on the sender lease, on a real SQLite file, with clocks moved by hand."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wa_inbox.gateway.lease import LeaseKeeper, LeaseLost, LeaseTiming
from wa_inbox.store.sqlite import SqliteStore

TIMING = LeaseTiming(seconds=15, heartbeat=5, poll=1)
A, B = "serve@one:101.aaaa", "inbox@two:202.bbbb"


class Clocks:
    """The store's wall clock and the keeper's monotonic one, moved together."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
async def store(tmp_path: Path, clocks: Clocks) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db", clocks.now)
    yield opened
    await opened.close()


def keeper(store: SqliteStore, clocks: Clocks, owner: str) -> LeaseKeeper:
    return LeaseKeeper(store, owner, TIMING, clocks.monotonic)


async def test_a_request_may_start_only_with_a_heartbeat_of_lease_left(
    store: SqliteStore, clocks: Clocks
) -> None:
    mine = keeper(store, clocks, A)
    assert not mine.sendable()

    lease = await mine.try_acquire()
    assert lease is not None and lease.owner == A and mine.sendable()
    clocks.advance(10)  # two heartbeats missed: 5 s left
    assert mine.sendable()
    clocks.advance(0.001)
    assert not mine.sendable()

    await mine.renew()
    assert mine.sendable() and mine.lease is not None and mine.lease.term == lease.term


async def test_a_second_keeper_stands_by_and_says_who_holds_the_lease(
    store: SqliteStore, clocks: Clocks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wa_inbox.gateway.lease")
    await keeper(store, clocks, A).try_acquire()
    other = keeper(store, clocks, B)

    assert await other.try_acquire() is None
    assert await other.try_acquire() is None

    assert caplog.text.count(f"standing by: {A} holds the sender lease until") == 1  # once, not per poll


async def test_a_holder_whose_lease_was_taken_after_it_expired_loses_it(
    store: SqliteStore, clocks: Clocks
) -> None:
    stalled, other = keeper(store, clocks, A), keeper(store, clocks, B)
    await stalled.try_acquire()
    clocks.advance(15)
    taken = await other.try_acquire()
    assert taken is not None and taken.term == 2

    with pytest.raises(LeaseLost, match=B):
        await stalled.renew()

    assert stalled.lease is None and not stalled.sendable()
    assert await stalled.try_acquire() is None


async def test_a_lapsed_lease_retaken_by_its_holder_is_a_new_term_and_reported_lost(
    store: SqliteStore, clocks: Clocks
) -> None:
    mine = keeper(store, clocks, A)
    await mine.try_acquire()
    clocks.advance(16)

    with pytest.raises(LeaseLost):
        await mine.renew()  # the database gave it back as term 2: term 1's work was stopped

    again = await mine.try_acquire()
    assert again is not None and (again.owner, again.term) == (A, 2)


async def test_a_term_left_to_expire_is_not_renewed_by_its_own_holder(
    store: SqliteStore, clocks: Clocks
) -> None:
    mine = keeper(store, clocks, A)
    first = await mine.try_acquire()
    assert first is not None
    mine.let_expire()

    assert await mine.try_acquire() is None  # still live in the database, but no longer ours to use
    clocks.advance(15)
    again = await mine.try_acquire()
    assert again is not None and again.term == first.term + 1


async def test_a_released_lease_is_taken_at_once_by_the_one_standing_by(
    store: SqliteStore, clocks: Clocks
) -> None:
    mine, other = keeper(store, clocks, A), keeper(store, clocks, B)
    await mine.try_acquire()
    assert await other.try_acquire() is None

    await mine.release()

    taken = await other.try_acquire()
    assert taken is not None and (taken.owner, taken.term) == (B, 2)


class Unavailable:
    """A store whose writes fail (the database locked for long), reads going through."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.failing = False

    async def sender_lease(self):  # type: ignore[no-untyped-def]
        return await self._store.sender_lease()

    async def acquire_sender_lease(self, owner: str, duration: timedelta):  # type: ignore[no-untyped-def]
        if self.failing:
            raise TimeoutError("database is locked")
        return await self._store.acquire_sender_lease(owner, duration)


async def test_renewals_that_fail_until_the_lease_runs_out_lose_it(
    store: SqliteStore, clocks: Clocks
) -> None:
    flaky = Unavailable(store)
    mine = LeaseKeeper(flaky, A, TIMING, clocks.monotonic)  # type: ignore[arg-type]
    await mine.try_acquire()
    flaky.failing = True

    clocks.advance(5)
    await mine.renew()  # tried again at the next heartbeat
    clocks.advance(5.5)
    await mine.renew()
    assert not mine.sendable()  # 4.5 s left: no new request starts
    clocks.advance(4.5)
    with pytest.raises(LeaseLost, match="could not be renewed"):
        await mine.renew()
    with pytest.raises(LeaseLost):
        await mine.until_sendable()
