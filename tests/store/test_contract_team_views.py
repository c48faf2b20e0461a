"""The team's views on every backend: Mine, Unassigned, All, by status and label, with counts that
agree with the lists, and unread counts per agent."""

from __future__ import annotations

from tests.support.store import ANA, BEN, inbound
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import ACTIVE
from wa_inbox.store import ConversationCounts, ConversationFilter, Store

CARL = "whatsapp:+4915112345678"
DORA = "whatsapp:+33612345678"


async def addresses(store: Store, where: ConversationFilter, agent: str | None = None) -> list[str]:
    return [c.contact.address for c in await store.list_conversations(where=where, agent=agent)]


async def test_each_view_lists_and_counts_its_conversations(store: Store) -> None:
    for n, address in enumerate([ANA, BEN, CARL, DORA]):
        await inbound(store, n, "hi", address=address)
    await store.assign(ANA, "ana", by="ana")
    await store.assign(BEN, "ana", by="ana")
    await store.assign(CARL, "ben", by="ben")
    await store.set_conversation_status(BEN, "resolved", by="ana")
    await store.set_conversation_status(CARL, "pending", by="ben")

    mine = ConversationFilter(assignee="ana", statuses=ACTIVE)
    unassigned = ConversationFilter(unassigned=True, statuses=ACTIVE)
    everyone = ConversationFilter(statuses=ACTIVE)
    resolved = ConversationFilter(statuses=frozenset({"resolved"}))
    views = {
        mine: [ANA],
        unassigned: [DORA],
        everyone: [DORA, CARL, ANA],
        resolved: [BEN],
        ConversationFilter(assignee="ana"): [BEN, ANA],
        ConversationFilter(): [DORA, CARL, BEN, ANA],
    }
    for where, listed in views.items():
        assert await addresses(store, where) == listed, where
        counts = await store.conversation_counts(where)
        assert counts == ConversationCounts(len(listed), len(listed), len(listed)), where
    (carl,) = await store.list_conversations(addresses=[CARL])
    assert (carl.status, carl.assignee) == ("pending", "ben")
    assert await store.conversation_counts() == await store.conversation_counts(ConversationFilter())


async def test_a_view_pages_like_the_whole_list(store: Store) -> None:
    customers = [f"whatsapp:+3461200{n:04d}" for n in range(9)]
    for n, address in enumerate(customers):
        await inbound(store, n, "hi", address=address)
        if n % 2:
            await store.assign(address, "ana", by="ana")
    mine = ConversationFilter(assignee="ana")
    walked, after = [], None
    while page := await store.list_conversations(limit=2, after=after, where=mine):
        walked += [c.contact.address for c in page]
        after = page[-1]
    assert walked == [a for n, a in reversed(list(enumerate(customers))) if n % 2]


async def test_unread_is_per_agent_and_starts_at_their_first_sighting(store: Store) -> None:
    await inbound(store, 1, "from history", address=ANA)
    await store.record_agent("ana")
    await store.record_agent("ben")
    await inbound(store, 2, "new", address=ANA)
    await inbound(store, 3, "new too", address=ANA)
    await inbound(store, 4, "hello", address=BEN)

    assert await store.conversation_counts(agent="ana") == ConversationCounts(2, 2, 3)
    assert await store.conversation_counts(agent="ben") == ConversationCounts(2, 2, 3)
    assert await store.conversation_counts() == ConversationCounts(2, 2, 4)  # anyone's: history too

    assert await store.mark_read(ANA, agent="ana") == 3
    by_ana = {c.contact.address: c.unread_count for c in await store.list_conversations(agent="ana")}
    by_ben = {c.contact.address: c.unread_count for c in await store.list_conversations(agent="ben")}
    assert by_ana == {ANA: 0, BEN: 1}
    assert by_ben == {ANA: 2, BEN: 1}
    assert await store.conversation_counts(agent="ana") == ConversationCounts(2, 1, 1)
    assert await store.conversation_counts(agent="ben") == ConversationCounts(2, 2, 3)

    await store.queue_draft(Draft(ANA, "on it", author="ana"), "k1")  # a reply is not unread
    await inbound(store, 5, "thanks", address=ANA)
    await store.add_note(ANA, "ben", "a note is not unread either")
    (ana,) = await store.list_conversations(addresses=[ANA], agent="ana")
    (ben,) = await store.list_conversations(addresses=[ANA], agent="ben")
    assert (ana.unread_count, ben.unread_count) == (1, 3)
    mine = ConversationFilter(assignee="ana")
    await store.assign(ANA, "ana", by="ana")
    assert await store.conversation_counts(mine, agent="ana") == ConversationCounts(1, 1, 1)
