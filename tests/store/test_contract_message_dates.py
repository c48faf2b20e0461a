"""Messages by the time they were stored (`messages list --date-sent…`), on every backend: bounds, the
order along that time, and pages that walk a period once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, BUSINESS, Clock, record, sid
from wa_inbox.domain.models import Direction, InboundMessage
from wa_inbox.domain.policy import Draft
from wa_inbox.store import MessageQuery, Store

DAY = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def arrives(store: Store, n: int, at: datetime, address: str = ANA) -> None:
    """Customer message `n`, stored as having arrived `at`."""
    message = InboundMessage(sid(n), address, BUSINESS, f"message {n}")
    await store.ingest_inbound(message, record(sid(n), at=at))


def bodies(messages: list) -> list[str]:
    return [m.body for m in messages]


async def test_a_period_holds_what_arrived_from_its_start_until_before_its_end(store: Store) -> None:
    await arrives(store, 1, DAY - timedelta(microseconds=1))  # the day before, to the microsecond
    await arrives(store, 2, DAY)  # the first instant of the day
    await arrives(store, 3, DAY + 23 * HOUR)
    await arrives(store, 4, DAY + 24 * HOUR)  # the next day's first instant

    day = MessageQuery(created_since=DAY, created_before=DAY + 24 * HOUR)
    since = MessageQuery(created_since=DAY)
    before = MessageQuery(created_before=DAY)

    assert bodies(await store.list_messages(day)) == ["message 3", "message 2"]
    assert bodies(await store.list_messages(since)) == ["message 4", "message 3", "message 2"]
    assert bodies(await store.list_messages(before)) == ["message 1"]


async def test_a_period_keeps_the_other_filters(backend: Backend) -> None:
    clock = Clock(DAY + 2 * HOUR)
    store = await backend.open(clock)
    try:
        await arrives(store, 1, DAY + HOUR)
        await arrives(store, 2, DAY + HOUR, address=BEN)
        await store.queue_draft(Draft(ANA, "our reply"), "k1")  # queued at the store's clock
        period = {"created_since": DAY, "created_before": DAY + 3 * HOUR}

        ours = await store.list_messages(MessageQuery(direction=Direction.OUTBOUND, **period))
        from_ben = await store.list_messages(MessageQuery(from_addr=BEN, **period))
        later = await store.list_messages(MessageQuery(created_since=DAY + 2 * HOUR))

        assert bodies(ours) == ["our reply"]
        assert bodies(from_ben) == ["message 2"]
        assert bodies(later) == ["our reply"]
    finally:
        await store.close()


async def test_in_a_period_newest_first_is_by_time_even_when_ids_disagree(store: Store) -> None:
    """A webhook that arrived earlier may be stored later (a retry, a slow writer): its time places it."""
    await arrives(store, 1, DAY + 2 * HOUR)
    await arrives(store, 2, DAY + HOUR)  # stored second, arrived first

    listed = await store.list_messages(MessageQuery(created_since=DAY))

    assert bodies(listed) == ["message 1", "message 2"]


async def test_pages_of_a_period_walk_each_message_once(store: Store) -> None:
    moments = [DAY + timedelta(minutes=7 * n % 60, seconds=n) for n in range(30)]
    moments[5] = moments[6] = DAY + timedelta(minutes=3)  # two at the same instant: the id decides
    await asyncio.gather(*(arrives(store, n, at) for n, at in enumerate(moments)))
    await arrives(store, 99, DAY + 2 * HOUR)  # outside the period
    period = {"created_since": DAY, "created_before": DAY + HOUR}
    everything = await store.list_messages(MessageQuery(limit=100, **period))

    walked: list[str] = []
    before_id: int | None = None
    while page := await store.list_messages(MessageQuery(limit=4, before_id=before_id, **period)):
        walked.extend(bodies(page))
        assert len(walked) <= 30, "a page came twice"
        before_id = page[-1].id

    assert len(everything) == 30 and walked == bodies(everything)
    times = [(m.created_at, m.id) for m in everything]
    assert times == sorted(times, reverse=True)


async def test_an_empty_period_lists_nothing(store: Store) -> None:
    await arrives(store, 1, DAY)

    assert await store.list_messages(MessageQuery(created_since=DAY + HOUR, created_before=DAY + HOUR)) == []
    assert await store.list_messages(MessageQuery(created_before=DAY - HOUR)) == []
