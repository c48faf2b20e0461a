"""The team inbox on every backend: notes, labels, saved replies, presence, agents, the opt-out audit
and who sent each message."""

from __future__ import annotations

from datetime import timedelta

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, BUSINESS, Clock, inbound, record, sid, we_send
from wa_inbox.domain.models import InboundMessage
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import PRESENCE_TTL, SYSTEM, EventKind
from wa_inbox.store import ConversationFilter, MessageQuery, Store


async def test_a_note_is_in_the_thread_never_a_message_nor_unread(store: Store) -> None:
    await inbound(store, 1, "where is my order?")
    await store.mark_read(ANA)
    before = await store.list_conversations()
    seen = await store.change_number()

    note = await store.add_note(ANA, "ana", "@ben can you check the warehouse?")

    assert (note.kind, note.author, note.body, note.address) == (
        EventKind.NOTE,
        "ana",
        "@ben can you check the warehouse?",
        ANA,
    )
    assert await store.thread_events(ANA) == [note]
    assert [m.body for m in await store.thread_page(ANA)] == ["where is my order?"]
    assert [m.body for m in await store.list_messages(MessageQuery())] == ["where is my order?"]
    (after,) = await store.list_conversations()
    assert after.unread_count == 0 and after.last_message == before[0].last_message
    assert (await store.conversation_counts()).unread_messages == 0
    changes = await store.changes_since(seen)
    assert changes.events == [note] and changes.messages == []
    assert [c.contact.address for c in changes.conversations] == [ANA]


async def test_labels_are_kept_listed_and_filter_the_list(store: Store) -> None:
    await inbound(store, 1, "hi", address=ANA)
    await inbound(store, 2, "hi", address=BEN)

    assert await store.set_label(ANA, "vip", True, by="ana")
    assert not await store.set_label(ANA, "vip", True, by="ana")
    assert await store.set_label(ANA, "billing", True, by="ana")
    assert await store.set_label(BEN, "billing", True, by="ben")

    assert await store.list_labels() == ["billing", "vip"]
    (ana,) = await store.list_conversations(addresses=[ANA])
    assert ana.labels == ("billing", "vip")
    vip = await store.list_conversations(where=ConversationFilter(label="vip"))
    assert [c.contact.address for c in vip] == [ANA]
    billing = ConversationFilter(label="billing")
    assert {c.contact.address for c in await store.list_conversations(where=billing)} == {ANA, BEN}
    assert (await store.conversation_counts(billing)).conversations == 2

    assert await store.set_label(ANA, "vip", False, by="ben")
    assert not await store.set_label(ANA, "vip", False, by="ben")
    assert await store.list_labels() == ["billing"]
    assert await store.list_conversations(where=ConversationFilter(label="vip")) == []
    assert [(e.kind, e.author, e.body) for e in await store.thread_events(ANA)] == [
        (EventKind.LABEL, "ana", "+vip"),
        (EventKind.LABEL, "ana", "+billing"),
        (EventKind.LABEL, "ben", "-vip"),
    ]


async def test_saved_replies_are_kept_replaced_and_forgotten(store: Store) -> None:
    assert await store.list_replies() == []
    await store.save_reply("thanks", "Thank you, {name}!", by="ana")
    await store.save_reply("hours", "We open at 9.", by="ana")
    await store.save_reply("thanks", "Thanks {name}, {agent} here.", by="ben")

    replies = await store.list_replies()
    assert [(r.name, r.body, r.updated_by) for r in replies] == [
        ("hours", "We open at 9.", "ana"),
        ("thanks", "Thanks {name}, {agent} here.", "ben"),
    ]
    assert await store.delete_reply("hours")
    assert not await store.delete_reply("hours")
    assert [r.name for r in await store.list_replies()] == ["thanks"]


async def test_presence_moves_with_the_agent_and_ends_by_itself(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    try:
        await inbound(store, 1, "hi", address=ANA)
        await inbound(store, 2, "hi", address=BEN)
        seen = await store.change_number()
        await store.touch_presence("ana", ANA)
        await store.touch_presence("ben", ANA, typing=True)

        marks = await store.presence(ANA)
        assert [(p.agent, p.typing, p.until) for p in marks] == [
            ("ana", False, clock.now + PRESENCE_TTL),
            ("ben", True, clock.now + PRESENCE_TTL),
        ]
        assert (await store.changes_since(seen)).conversations == []  # polled, not news of the conversation

        await store.touch_presence("ana", BEN)  # one conversation at a time
        assert [p.agent for p in await store.presence(ANA)] == ["ben"]
        assert [p.agent for p in await store.presence(BEN)] == ["ana"]

        clock.advance(PRESENCE_TTL.total_seconds() / 2)
        await store.touch_presence("ana", BEN)
        clock.advance(PRESENCE_TTL.total_seconds() / 2 + 0.001)
        assert await store.presence(ANA) == []  # ben's heartbeat stopped
        assert [p.agent for p in await store.presence(BEN)] == ["ana"]

        await store.leave_presence("ana")
        assert await store.presence(BEN) == []
    finally:
        await store.close()


async def test_agents_are_recorded_with_their_first_and_last_sighting(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    try:
        first = await store.record_agent("ben")
        await store.record_agent("ana")
        clock.advance(60)
        again = await store.record_agent("ben")

        assert (again.first_seen, again.last_seen) == (
            first.first_seen,
            first.first_seen + timedelta(seconds=60),
        )
        assert [a.name for a in await store.list_agents()] == ["ana", "ben"]
        assert (await store.list_agents())[1] == again
    finally:
        await store.close()


async def test_every_message_read_back_says_who_sent_it(store: Store) -> None:
    await inbound(store, 1, "hi")
    await we_send(store, Draft(ANA, "hello from ana", author="ana"), "SM" + "a" * 32)
    await we_send(store, Draft(ANA, "from before names"), "SM" + "b" * 32)

    thread = await store.thread_page(ANA)
    assert [(m.body, m.author) for m in thread] == [
        ("hi", None),
        ("hello from ana", "ana"),
        ("from before names", None),
    ]
    assert [m.author for m in await store.list_messages(MessageQuery())] == [None, "ana", None]
    message = await store.get_message("SM" + "a" * 32)
    assert message is not None and message.author == "ana"
    assert (await store.get_message_by_id(thread[1].id)).author == "ana"  # type: ignore[union-attr]
    assert [m.author for m in await store.search("ana")] == ["ana"]
    (conversation,) = await store.list_conversations()
    assert conversation.last_message is not None and conversation.last_message.author is None
    assert [m.author for m in (await store.changes_since(0)).messages] == [None, "ana", None]


async def test_the_stop_confirmation_and_the_audit_are_the_system_s(store: Store) -> None:
    stop = InboundMessage(sid(1), ANA, BUSINESS, "STOP")
    await store.ingest_inbound(stop, record(sid(1)), OptAction.STOP, "You will get no more messages.")
    await store.set_opt_state(ANA, OptAction.START, "agent ana")

    (_, confirmation) = await store.thread_page(ANA)
    assert (confirmation.body, confirmation.author) == ("You will get no more messages.", SYSTEM)
    history = await store.opt_history(ANA)
    assert [(e.action, e.source, e.message_sid) for e in history] == [
        ("stop", "keyword 'STOP'", sid(1)),
        ("start", "agent ana", None),
    ]
    assert await store.opt_history(BEN) == []
