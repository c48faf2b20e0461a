"""The conversation list's read model, on every backend: pages in order, counts kept on every write.

The oracle is the messages themselves (read through `thread_page`): whatever the writes, a
conversation's latest message and unread count are what its messages say.
"""

from __future__ import annotations

from tests.support.store import ANA, BEN, BUSINESS, inbound, record, we_send
from wa_inbox.domain.models import Conversation, StatusUpdate, WebhookKind
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store import ConversationCounts, Store

CUSTOMERS = [f"whatsapp:+3461200{n:04d}" for n in range(23)]


async def all_pages(store: Store, size: int) -> list[list[Conversation]]:
    pages: list[list[Conversation]] = []
    after = None
    while page := await store.list_conversations(limit=size, after=after):
        pages.append(page)
        after = page[-1]
    return pages


async def expected(store: Store, address: str) -> tuple[int, int]:
    """(latest message id, unread inbound count) as the conversation's messages say."""
    messages = await store.thread_page(address, limit=10_000)
    unread = sum(1 for m in messages if m.direction.value == "in" and m.read_by_agent_at is None)
    return (messages[-1].id if messages else 0, unread)


async def assert_matches_messages(store: Store) -> None:
    for conversation in await store.list_conversations():
        last = conversation.last_message.id if conversation.last_message else 0
        assert (last, conversation.unread_count) == await expected(store, conversation.contact.address)


async def test_pages_walk_every_conversation_once_in_list_order(store: Store) -> None:
    for n, address in enumerate(CUSTOMERS):
        await inbound(store, n, f"hello {n}", address=address)
    await inbound(store, 100, "again", address=CUSTOMERS[3])

    pages = await all_pages(store, size=5)

    walked = [c.contact.address for page in pages for c in page]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert walked == [c.contact.address for c in await store.list_conversations()]
    assert walked[0] == CUSTOMERS[3] and walked[1:] == [a for a in reversed(CUSTOMERS) if a != CUSTOMERS[3]]


async def test_a_customer_without_messages_comes_last_and_pages_still_end(store: Store) -> None:
    await store.set_opt_state(BEN, OptAction.STOP, "agent")  # a contact, no message
    await inbound(store, 1, "hi", address=ANA)

    pages = await all_pages(store, size=1)

    assert [page[0].contact.address for page in pages] == [ANA, BEN]
    assert pages[1][0].last_message is None and pages[1][0].unread_count == 0


async def test_unread_counts_follow_arrivals_reads_and_replies(store: Store) -> None:
    for n in range(4):
        await inbound(store, n, f"ana {n}", address=ANA)
    await inbound(store, 10, "ben", address=BEN)
    assert await store.conversation_counts() == ConversationCounts(2, 2, 5)

    await store.mark_read(ANA)
    await we_send(store, Draft(BEN, "on it"), "SM" + "b" * 32)

    assert await store.conversation_counts() == ConversationCounts(2, 1, 1)
    (ben,) = await store.list_conversations(addresses=[BEN])
    assert ben.unread_count == 1 and ben.last_message is not None and ben.last_message.body == "on it"
    await assert_matches_messages(store)


async def test_a_replaced_placeholder_leaves_the_read_model_right(store: Store) -> None:
    """A status that outruns our own record of the send makes a placeholder row; the send's record
    then replaces it (a delete), and the conversation must still point at a message that exists."""
    early = "SM" + "e" * 32
    await inbound(store, 1, "question", address=ANA)
    message_id = await store.queue_draft(Draft(ANA, "answer"), "key-1")
    assert message_id is not None
    await store.claim_unsent(1, message_id)
    await store.ingest_status(  # Twilio's callback, before its REST answer was recorded
        StatusUpdate(early, "sent", None, None, BUSINESS, ANA), record(early, WebhookKind.STATUS)
    )
    await store.record_accepted(message_id, early, "queued", BUSINESS, None)

    (ana,) = await store.list_conversations(addresses=[ANA])
    assert ana.last_message is not None and ana.last_message.sid == early
    assert ana.last_message.body == "answer"
    await assert_matches_messages(store)


async def test_a_retried_webhook_counts_once(store: Store) -> None:
    await inbound(store, 7, "once", address=ANA)
    await inbound(store, 7, "once", address=ANA)

    assert await store.conversation_counts() == ConversationCounts(1, 1, 1)


async def test_counts_of_an_empty_store(store: Store) -> None:
    assert await store.conversation_counts() == ConversationCounts(0, 0, 0)
    assert await store.list_conversations(limit=10) == []
