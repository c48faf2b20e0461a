"""The conversation list reads pages: the first screenful, then the rest, whole and in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from tests.support.tui import inbound, offline_backend, running_app, type_text, until
from wa_inbox.domain.models import Conversation
from wa_inbox.store import open_store
from wa_inbox.tui.screens import inbox
from wa_inbox.tui.screens.search import MESSAGES
from wa_inbox.tui.widgets.conversation_list import ConversationList

CUSTOMERS = 250
SEARCH_HITS = 70


async def seeded(path: Path) -> list[str]:
    """CUSTOMERS conversations; the list order the store gives, latest first."""
    at = datetime.now(UTC)
    async with open_store(path) as store:
        await asyncio.gather(
            *(
                inbound(store, f"whatsapp:+34611{n:06d}", f"hello {n}", at, name=f"Customer {n}")
                for n in range(CUSTOMERS)
            )
        )
        return [c.contact.address for c in await store.list_conversations()]


async def test_the_list_fills_in_pages_to_the_whole_inbox_in_store_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = await seeded(tmp_path / "inbox.db")
    shown_before_page: list[int] = []
    extend = ConversationList.extend

    def recorded(self: ConversationList, page: list[Conversation]) -> None:
        shown_before_page.append(len(self.conversations))
        extend(self, page)

    monkeypatch.setattr(inbox, "FIRST_PAGE", 10)
    monkeypatch.setattr(inbox, "FILL_PAGE", 40)
    monkeypatch.setattr(ConversationList, "extend", recorded)

    async with running_app(offline_backend(tmp_path / "inbox.db")) as (app, pilot):
        await until(pilot, lambda: len(app.inbox.conversations) == CUSTOMERS)
        shown = [c.contact.address for c in app.inbox.conversations]

    assert shown_before_page == [10, 50, 90, 130, 170, 210, 250]  # the last page read came back empty
    assert shown == order


async def test_search_results_come_a_page_at_a_time_as_the_agent_reaches_the_end(tmp_path: Path) -> None:
    at = datetime.now(UTC)
    async with open_store(tmp_path / "inbox.db") as store:
        for n in range(SEARCH_HITS):
            await inbound(store, "whatsapp:+34611000001", f"parcel number {n} is late", at, name="Zoe")
    async with running_app(offline_backend(tmp_path / "inbox.db")) as (app, pilot):
        await pilot.press("ctrl+f")
        await type_text(pilot, "parcel")
        results = app.screen.query_one(OptionList)
        await until(pilot, lambda: results.option_count == MESSAGES)  # the first page

        await pilot.press("down", "end")
        await until(pilot, lambda: results.option_count == SEARCH_HITS)
        summary = str(app.screen.query_one("#search-summary", Static).render())

    assert summary == f"0 customers, {SEARCH_HITS} messages, best match first"
