"""The team inbox on every backend: who a conversation belongs to, its status, how a customer's
message reopens it, a snooze that ends by itself, and the change feed seeing it all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, Clock, inbound
from wa_inbox.domain.models import Conversation
from wa_inbox.domain.team import ACTIVE, SYSTEM, ConversationStatus, EventKind
from wa_inbox.store import ConversationFilter, Store, UnknownConversation

NOBODY = "whatsapp:+10000000000"


async def conversation(store: Store, address: str = ANA) -> Conversation:
    (found,) = await store.list_conversations(addresses=[address])
    return found


async def test_assignment_is_an_event_the_change_feed_reports(store: Store) -> None:
    await inbound(store, 1, "hi")
    seen = (await store.changes_since(0)).seq

    assert await store.assign(ANA, "ana", by="ana")
    assert not await store.assign(ANA, "ana", by="ana")  # already so: no event
    assert await store.assign(ANA, "ben", by="ana")
    assert await store.assign(ANA, None, by="ben")

    changes = await store.changes_since(seen)
    assert [(e.kind, e.author, e.body) for e in changes.events] == [
        (EventKind.ASSIGNED, "ana", "ana"),
        (EventKind.ASSIGNED, "ana", "ben"),
        (EventKind.ASSIGNED, "ben", ""),
    ]
    assert [c.contact.address for c in changes.conversations] == [ANA]
    assert changes.conversations[0].assignee is None
    assert changes.messages == []
    assert [e.body for e in await store.thread_events(ANA)] == ["ana", "ben", ""]
    assert [e.body for e in await store.thread_events(ANA, limit=2)] == ["ben", ""]
    assert (await store.changes_since(changes.seq)).events == []


async def test_another_store_on_the_database_sees_the_assignment(backend: Backend, store: Store) -> None:
    await inbound(store, 1, "hi")
    other = await backend.open()
    try:
        seen = await other.change_number()
        await store.assign(ANA, "ben", by="ana")
        changes = await other.changes_since(seen)
        assert [c.assignee for c in changes.conversations] == ["ben"]
        assert [e.body for e in changes.events] == ["ben"]
    finally:
        await other.close()


async def test_status_changes_and_a_customer_s_message_reopens_a_resolved_conversation(store: Store) -> None:
    await inbound(store, 1, "hi")
    assert (await conversation(store)).status == ConversationStatus.OPEN

    assert await store.set_conversation_status(ANA, "pending", by="ana")
    assert not await store.set_conversation_status(ANA, "pending", by="ana")
    assert (await conversation(store)).status == "pending"
    await inbound(store, 2, "still there?")
    assert (await conversation(store)).status == "pending"  # pending waits on the customer: it stays

    assert await store.set_conversation_status(ANA, "resolved", by="ana")
    seen = await store.change_number()
    await inbound(store, 3, "one more thing")

    assert (await conversation(store)).status == "open"
    changes = await store.changes_since(seen)
    assert [(e.kind, e.author, e.body, e.detail) for e in changes.events] == [
        (EventKind.STATUS, SYSTEM, "open", "reopened by the customer")
    ]
    events = await store.thread_events(ANA)
    assert [(e.author, e.body) for e in events] == [("ana", "pending"), ("ana", "resolved"), (SYSTEM, "open")]


async def test_a_snooze_ends_by_its_time_or_when_the_customer_writes(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    try:
        await inbound(store, 1, "hi", address=ANA)
        await inbound(store, 2, "hi", address=BEN)
        until = clock.now + timedelta(hours=1)
        assert await store.set_conversation_status(ANA, "snoozed", by="ana", until=until)
        assert await store.set_conversation_status(BEN, "snoozed", by="ana", until=until)
        active = ConversationFilter(statuses=ACTIVE)
        snoozed = ConversationFilter(statuses=frozenset({ConversationStatus.SNOOZED}))

        ana = await conversation(store)
        assert (ana.status, ana.snoozed_until) == ("snoozed", until)
        assert await store.list_conversations(where=active) == []
        assert {c.contact.address for c in await store.list_conversations(where=snoozed)} == {ANA, BEN}
        (event, *_) = await store.thread_events(ANA)
        assert (event.kind, event.body) == (EventKind.STATUS, "snoozed") and event.detail

        await inbound(store, 3, "wake up", address=BEN)
        assert (await conversation(store, BEN)).status == "open"

        clock.advance(2 * 3600)
        ana = await conversation(store)
        assert (ana.status, ana.snoozed_until) == ("open", None)
        assert {c.contact.address for c in await store.list_conversations(where=active)} == {ANA, BEN}
        assert await store.list_conversations(where=snoozed) == []
        assert (await store.conversation_counts(active)).conversations == 2
    finally:
        await store.close()


async def test_a_snooze_needs_its_end_and_a_status_must_be_one(store: Store) -> None:
    await inbound(store, 1, "hi")
    with pytest.raises(ValueError):
        await store.set_conversation_status(ANA, "snoozed", by="ana")
    with pytest.raises(ValueError):
        await store.set_conversation_status(ANA, "sleeping", by="ana")
    assert await store.thread_events(ANA) == []


async def test_changes_to_a_conversation_nobody_wrote_to_are_unknown_conversations(store: Store) -> None:
    with pytest.raises(UnknownConversation):
        await store.assign(NOBODY, "ana", by="ana")
    with pytest.raises(UnknownConversation):
        await store.set_conversation_status(NOBODY, "resolved", by="ana")
    with pytest.raises(UnknownConversation):
        await store.add_note(NOBODY, "ana", "hello")
    with pytest.raises(UnknownConversation):
        await store.set_label(NOBODY, "vip", True, by="ana")
    assert await store.get_contact(NOBODY) is None
    assert await store.thread_events(NOBODY) == []
