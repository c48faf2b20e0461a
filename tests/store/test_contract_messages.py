"""The store's messages, on every backend: concurrent writes, paging, search, reads, the change feed."""

from __future__ import annotations

import asyncio

from tests.support.store import ANA, BEN, BUSINESS, inbound, record, sid
from wa_inbox.domain.models import Direction, InboundMessage, StatusUpdate, WebhookKind
from wa_inbox.domain.policy import Draft
from wa_inbox.store import MessageQuery, Store


async def test_concurrent_writes_all_land(store: Store) -> None:
    await asyncio.gather(*(inbound(store, n) for n in range(200)))

    assert len(await store.thread_page(ANA, limit=500)) == 200


async def test_a_webhook_retry_is_stored_once(store: Store) -> None:
    message = InboundMessage(sid(1), ANA, BUSINESS, "hello", profile_name="Ana")

    assert await store.ingest_inbound(message, record(sid(1)))
    assert not await store.ingest_inbound(message, record(sid(1)))

    assert [m.sid for m in await store.thread_page(ANA)] == [sid(1)]
    contact = await store.get_contact(ANA)
    assert contact is not None and contact.profile_name == "Ana" and contact.last_inbound_at is not None
    assert await store.get_contact(BEN) is None


async def test_thread_pages_walk_backwards(store: Store) -> None:
    for n in range(120):
        await inbound(store, n, f"message {n}")

    newest = await store.thread_page(ANA, limit=50)
    older = await store.thread_page(ANA, before_id=newest[0].id, limit=50)

    assert [m.body for m in newest] == [f"message {n}" for n in range(70, 120)]
    assert [m.body for m in older] == [f"message {n}" for n in range(20, 70)]


async def test_a_thread_page_is_one_conversation(store: Store) -> None:
    await inbound(store, 1, "from Ana")
    await inbound(store, 2, "from Ben", address=BEN)

    assert [m.body for m in await store.thread_page(ANA)] == ["from Ana"]
    assert [m.body for m in await store.thread_page(BEN)] == ["from Ben"]
    assert await store.thread_page("whatsapp:+4915112345678") == []


async def test_search_ignores_case_and_accents(store: Store) -> None:
    await inbound(store, 1, "Meu pedido não chegou")
    await inbound(store, 2, "Obrigado!")

    found = await store.search("NAO cheg")

    assert [m.body for m in found] == ["Meu pedido não chegou"]
    assert await store.search('"') == []


async def test_search_matches_every_word_newest_first_up_to_the_limit(store: Store) -> None:
    for n in range(5):
        await inbound(store, n, f"pedido {n} chegou")
    await inbound(store, 9, "pedido perdido")

    assert [m.body for m in await store.search("pedido chegou", limit=2)] == [
        "pedido 4 chegou",
        "pedido 3 chegou",
    ]
    assert await store.search("   ") == []
    assert await store.search("nada\x00") == []  # a control character is no error


async def test_search_ranks_the_closer_match_first_and_pages(store: Store) -> None:
    await inbound(store, 1, "refund")
    await inbound(
        store, 2, "hello, about my order from last week: the box came open, can I get a refund please"
    )
    await inbound(store, 3, "refund refund")
    for n in range(10, 16):
        await inbound(store, n, f"refund status {n}")

    best = await store.search("refund", limit=3)
    rest = await store.search("refund", limit=10, offset=3)

    assert [m.body for m in best][:2] == ["refund refund", "refund"]  # relevance, not age
    assert best[2].body.startswith("refund status")
    assert rest[-1].body.startswith("hello, about my order")  # the weakest match last
    assert len(best) + len(rest) == 9 and {m.id for m in best}.isdisjoint(m.id for m in rest)


async def test_mark_read_clears_unread(store: Store) -> None:
    await inbound(store, 1)
    await inbound(store, 2)
    assert (await store.list_conversations())[0].unread_count == 2

    assert await store.mark_read(ANA) == 2

    assert (await store.list_conversations())[0].unread_count == 0
    assert await store.mark_read(ANA) == 0  # nothing left unread
    assert all(m.read_by_agent_at is not None for m in await store.thread_page(ANA))


async def test_conversations_come_latest_activity_first(store: Store) -> None:
    await inbound(store, 1, "Ana first", address=ANA)
    await inbound(store, 2, "Ben then", address=BEN)
    await inbound(store, 3, "Ana again", address=ANA)

    conversations = await store.list_conversations()

    assert [(c.contact.address, c.last_message and c.last_message.body) for c in conversations] == [
        (ANA, "Ana again"),
        (BEN, "Ben then"),
    ]
    assert [c.unread_count for c in conversations] == [2, 1]
    assert all(c.window_expires_at is not None for c in conversations)  # the customer wrote: a window is open
    assert [c.contact.address for c in await store.list_conversations(limit=1)] == [ANA]
    assert [c.contact.address for c in await store.list_conversations(addresses=[BEN])] == [BEN]
    assert await store.list_conversations(addresses=[]) == []


async def test_accepted_send_folds_in_the_placeholder_its_callbacks_made(store: Store) -> None:
    message_id = await store.queue_draft(Draft(ANA, "hi"), "k1")
    (job,) = await store.claim_unsent(5)
    message_sid = "SM" + "e" * 32
    await store.ingest_status(
        StatusUpdate(message_sid, "delivered", to_addr=ANA), record(message_sid, WebhookKind.STATUS)
    )

    await store.record_accepted(job.id, message_sid, "queued", BUSINESS, None)

    message = await store.get_message(message_sid)
    assert message is not None
    assert (message.id, message.status, message.body) == (message_id, "delivered", "hi")
    assert len(await store.list_messages(MessageQuery())) == 1


async def test_a_draft_is_queued_once_per_key_and_claimed_once(store: Store) -> None:
    first = await store.queue_draft(Draft(ANA, "hi"), "k1")
    again = await store.queue_draft(Draft(ANA, "hi"), "k1")
    second = await store.queue_draft(Draft(ANA, "and this"), "k2")

    claimed = await asyncio.gather(store.claim_unsent(1), store.claim_unsent(1), store.claim_unsent(1))

    assert first is not None and again is None and second is not None
    assert sorted(job.id for jobs in claimed for job in jobs) == [first, second]
    assert [(job.address, job.body) for jobs in claimed for job in jobs if job.id == first] == [(ANA, "hi")]
    queued = await store.get_message_by_id(first)
    assert queued is not None and (queued.status, queued.direction) == ("sending", Direction.OUTBOUND)


async def test_a_failed_send_is_recorded_with_its_error(store: Store) -> None:
    message_id = await store.queue_draft(Draft(ANA, "hi"), "k1")
    assert message_id is not None
    await store.claim_unsent(1, message_id)

    await store.record_failed(message_id, 63016, "Outside the window")

    message = await store.get_message_by_id(message_id)
    assert message is not None
    assert (message.status, message.error_code, message.error_message) == (
        "failed",
        63016,
        "Outside the window",
    )
    assert await store.get_message_by_id(message_id + 1000) is None
    assert await store.get_message("SM" + "0" * 32) is None


async def test_claimed_sids_are_ours_not_placeholders(store: Store) -> None:
    message_id = await store.queue_draft(Draft(ANA, "hi"), "k1")
    assert message_id is not None
    await store.claim_unsent(1, message_id)
    ours, theirs = "SM" + "a" * 32, "SM" + "b" * 32
    await store.record_accepted(message_id, ours, "queued", BUSINESS, None)
    await store.ingest_status(StatusUpdate(theirs, "sent", to_addr=ANA), record(theirs, WebhookKind.STATUS))

    assert await store.claimed_sids([ours, theirs, "SM" + "c" * 32]) == {ours}
    assert await store.claimed_sids([]) == set()


async def test_list_messages_filters_newest_first(store: Store) -> None:
    await inbound(store, 1, "one")
    await inbound(store, 2, "two", address=BEN)
    await store.queue_draft(Draft(ANA, "reply"), "k1")

    everything = await store.list_messages(MessageQuery())
    ours = await store.list_messages(MessageQuery(direction=Direction.OUTBOUND))
    from_ben = await store.list_messages(MessageQuery(from_addr=BEN))
    pending = await store.list_messages(MessageQuery(status="pending"))

    assert [m.body for m in everything] == ["reply", "two", "one"]
    assert [m.body for m in await store.list_messages(MessageQuery(limit=1))] == ["reply"]
    assert [m.body for m in ours] == [m.body for m in pending] == ["reply"]
    assert [m.body for m in from_ben] == ["two"]
    assert [m.body for m in await store.list_messages(MessageQuery(to_addr=ANA))] == ["reply"]


async def test_message_pages_walk_every_message_once_newest_first(store: Store) -> None:
    await asyncio.gather(*(inbound(store, n, f"message {n}", address=(ANA, BEN)[n % 2]) for n in range(25)))
    everything = [m.sid for m in await store.list_messages(MessageQuery(limit=100))]

    walked: list[str | None] = []
    before_id: int | None = None
    while page := await store.list_messages(MessageQuery(limit=7, before_id=before_id)):
        assert len(page) <= 7
        walked.extend(m.sid for m in page)
        assert len(walked) <= 25, "a page came twice"
        before_id = page[-1].id
        await inbound(store, 100 + len(walked), "arrives while paging")  # newer: never in a later page

    assert len(everything) == 25
    assert walked == everything


async def test_message_pages_keep_the_filters(store: Store) -> None:
    for n in range(12):
        await inbound(store, n, f"message {n}", address=(ANA, BEN)[n % 2])

    first = await store.list_messages(MessageQuery(from_addr=BEN, limit=4))
    second = await store.list_messages(MessageQuery(from_addr=BEN, limit=4, before_id=first[-1].id))

    assert [m.body for m in first] == [f"message {n}" for n in (11, 9, 7, 5)]
    assert [m.body for m in second] == ["message 3", "message 1"]


async def test_the_change_feed_reports_what_changed_after_a_change_number(store: Store) -> None:
    start = await store.changes_since(0)
    assert (start.messages, start.conversations) == ([], [])
    await inbound(store, 1, "one")
    middle = await store.changes_since(start.seq)
    await inbound(store, 2, "two", address=BEN)

    later = await store.changes_since(middle.seq)

    assert middle.seq > start.seq and await store.change_number() >= later.seq > middle.seq
    assert [m.body for m in middle.messages] == ["one"]
    assert [c.contact.address for c in middle.conversations] == [ANA]
    assert [m.body for m in later.messages] == ["two"]
    assert [c.contact.address for c in later.conversations] == [BEN]
    assert (await store.changes_since(later.seq)).messages == []
    assert [m.body for m in await store.messages_changed_since(start.seq)] == ["one", "two"]
    assert [m.body for m in await store.messages_changed_since(start.seq, limit=1)] == ["one"]


async def test_a_mark_read_is_a_change_of_the_conversation(store: Store) -> None:
    await inbound(store, 1)
    seen = (await store.changes_since(0)).seq

    await store.mark_read(ANA)

    changes = await store.changes_since(seen)
    assert [(c.contact.address, c.unread_count) for c in changes.conversations] == [(ANA, 0)]


async def test_commit_listeners_hear_each_change_number(store: Store) -> None:
    """The number a listener hears is its commit's: what the commit wrote is in (number - 1, number].
    SQLite tells this store's commits at once, PostgreSQL any process's through LISTEN/NOTIFY."""
    heard: list[int] = []
    told = asyncio.Event()

    def listener(number: int) -> None:
        heard.append(number)
        told.set()

    store.on_commit(listener)

    await inbound(store, 1)

    async def is_the_commit(number: int) -> bool:
        written = [m.sid for m in await store.messages_changed_since(number - 1)]
        return written == [sid(1)] and await store.messages_changed_since(number) == []

    async with asyncio.timeout(5):
        while True:
            told.clear()
            if [number for number in list(heard) if await is_the_commit(number)]:
                break
            await told.wait()
    assert await store.check_writable()
