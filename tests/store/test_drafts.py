"""One unsent draft per conversation: kept across restarts, deleted when blank, not news to other screens."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wa_inbox.domain.models import InboundMessage, Verdict, WebhookKind, WebhookRecord
from wa_inbox.store.sqlite import SqliteStore

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+34612345678"
BUSINESS = "whatsapp:+14155238886"


async def customer_writes(store: SqliteStore, address: str, n: int) -> None:
    sid = f"SM{n:032x}"
    record = WebhookRecord(WebhookKind.INBOUND, "/t", Verdict.ACCEPTED, "", {}, datetime.now(UTC), None, sid)
    await store.ingest_inbound(InboundMessage(sid, address, BUSINESS, "Oi"), record)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "inbox.db")
    await customer_writes(opened, ANA, 1)
    await customer_writes(opened, BEN, 2)
    yield opened
    await opened.close()


async def test_no_draft_reads_as_empty(store: SqliteStore) -> None:
    assert await store.get_draft(ANA) == ""
    assert await store.count_drafts() == 0


async def test_a_draft_is_kept_per_conversation_and_replaced(store: SqliteStore) -> None:
    await store.save_draft(ANA, "Olá Ana, ")
    await store.save_draft(BEN, "Hola")
    await store.save_draft(ANA, "Olá Ana, seu pedido ")

    assert await store.get_draft(ANA) == "Olá Ana, seu pedido "  # as typed, spaces and all
    assert await store.get_draft(BEN) == "Hola"
    assert await store.count_drafts() == 2


@pytest.mark.parametrize("blank", ["", "  \n\t "])
async def test_a_blank_draft_deletes_it(store: SqliteStore, blank: str) -> None:
    await store.save_draft(ANA, "Olá")

    await store.save_draft(ANA, blank)
    await store.save_draft(BEN, blank)  # nothing to delete: still fine

    assert await store.get_draft(ANA) == ""
    assert await store.count_drafts() == 0


async def test_drafts_survive_close_and_reopen(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "inbox.db")
    await customer_writes(store, ANA, 1)
    await customer_writes(store, BEN, 2)
    await store.save_draft(ANA, "Olá")
    await store.save_draft(BEN, "Hola")
    await store.save_draft(BEN, "")
    await store.close()

    again = await SqliteStore.open(tmp_path / "inbox.db")
    try:
        assert (await again.get_draft(ANA), await again.get_draft(BEN)) == ("Olá", "")
        assert await again.count_drafts() == 1
    finally:
        await again.close()


async def test_a_draft_is_not_a_change_of_the_conversation(store: SqliteStore) -> None:
    seen = (await store.changes_since(0)).seq

    await store.save_draft(ANA, "Olá")

    changes = await store.changes_since(seen)
    assert (changes.messages, changes.conversations) == ([], [])


async def test_a_draft_needs_a_known_contact(store: SqliteStore) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await store.save_draft("whatsapp:+4915112345678", "Hallo")
