"""One unsent draft per conversation: kept across restarts, deleted when blank, not news to other screens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, inbound
from wa_inbox.store import Store


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    await inbound(opened, 1, "Oi", address=ANA)
    await inbound(opened, 2, "Oi", address=BEN)
    yield opened
    await opened.close()


async def test_no_draft_reads_as_empty(store: Store) -> None:
    assert await store.get_draft(ANA) == ""
    assert await store.count_drafts() == 0


async def test_a_draft_is_kept_per_conversation_and_replaced(store: Store) -> None:
    await store.save_draft(ANA, "Olá Ana, ")
    await store.save_draft(BEN, "Hola")
    await store.save_draft(ANA, "Olá Ana, seu pedido ")

    assert await store.get_draft(ANA) == "Olá Ana, seu pedido "  # as typed, spaces and all
    assert await store.get_draft(BEN) == "Hola"
    assert await store.count_drafts() == 2


@pytest.mark.parametrize("blank", ["", "  \n\t "])
async def test_a_blank_draft_deletes_it(store: Store, blank: str) -> None:
    await store.save_draft(ANA, "Olá")

    await store.save_draft(ANA, blank)
    await store.save_draft(BEN, blank)  # nothing to delete: still fine

    assert await store.get_draft(ANA) == ""
    assert await store.count_drafts() == 0


async def test_drafts_survive_close_and_reopen(backend: Backend) -> None:
    store = await backend.open()
    await inbound(store, 1, "Oi", address=ANA)
    await inbound(store, 2, "Oi", address=BEN)
    await store.save_draft(ANA, "Olá")
    await store.save_draft(BEN, "Hola")
    await store.save_draft(BEN, "")
    await store.close()

    again = await backend.open()
    try:
        assert (await again.get_draft(ANA), await again.get_draft(BEN)) == ("Olá", "")
        assert await again.count_drafts() == 1
    finally:
        await again.close()


async def test_a_draft_is_not_a_change_of_the_conversation(store: Store) -> None:
    seen = (await store.changes_since(0)).seq

    await store.save_draft(ANA, "Olá")

    changes = await store.changes_since(seen)
    assert (changes.messages, changes.conversations) == ([], [])


async def test_a_draft_needs_a_known_contact(store: Store, backend: Backend) -> None:
    with pytest.raises(backend.integrity_error):
        await store.save_draft("whatsapp:+4915112345678", "Hallo")
