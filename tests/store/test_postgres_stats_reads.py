"""PostgreSQL's own side of `stats`, vacuuming and the reads SQLite cannot match: what each number is
on a server, a plain VACUUM making pruned space reusable, contacts found by name in any case of any
alphabet, and search's fallback for accents beside the index's matches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.store.test_contract_stats_vacuum import fill
from tests.support import postgres as server
from tests.support.store import ANA, BEN, BUSINESS, inbound, record, sid
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.models import InboundMessage
from wa_inbox.store import Store, open_store

PRUNE_BEFORE = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def url() -> DatabaseUrl:
    return server.fresh_database()


@pytest.fixture
async def store(url: DatabaseUrl) -> AsyncIterator[Store]:
    opened = await open_store(url)
    yield opened
    await opened.close()


async def one(url: DatabaseUrl, sql: str) -> int:
    ((value,),) = await server.async_rows(url, sql)
    return int(value)


async def test_stats_are_the_server_s_own_figures(url: DatabaseUrl, store: Store) -> None:
    await fill(store, 20)

    stats = await store.stats()

    assert stats.bytes_on_disk == await one(url, "SELECT pg_database_size(current_database())")
    assert stats.page_size == await one(url, "SELECT current_setting('block_size')::int") == 8192
    assert (stats.log_bytes, stats.free_pages, stats.vacuums_online) == (0, 0, True)
    assert stats.rows["webhook_log"] == stats.rows["messages"] == 20


async def test_a_vacuum_step_makes_the_pruned_space_reusable(url: DatabaseUrl, store: Store) -> None:
    log_size = "SELECT pg_total_relation_size('webhook_log')"
    await fill(store, 300)
    full = await one(url, log_size)
    await store.prune_webhook_log(PRUNE_BEFORE)
    assert await one(url, log_size) == full  # deleted rows keep their space until a vacuum

    assert await store.vacuum_step(50) == 0
    await fill(store, 300, first=1000)  # as much again, into the space the vacuum freed
    await store.prune_webhook_log(PRUNE_BEFORE)
    assert await store.vacuum_step(50) == 0
    await fill(store, 300, first=2000)

    assert await one(url, log_size) < full * 1.2  # three fills, the space of about one


async def test_contacts_are_found_by_name_in_any_case_of_any_alphabet(store: Store) -> None:
    for n, (address, name) in enumerate([(ANA, "Édith Çelik"), (BEN, "Σωκράτης Ωμέγα")]):
        await store.ingest_inbound(
            InboundMessage(sid(n), address, BUSINESS, "Oi", profile_name=name), record(sid(n))
        )

    assert [c.address for c in await store.find_contacts("ÉDITH çel")] == [ANA]
    assert [c.address for c in await store.find_contacts("σωκρ")] == [BEN]
    assert [c.address for c in await store.find_contacts("ΩΜΈΓΑ")] == [BEN]


async def test_search_finds_the_index_s_matches_first_then_the_accented_ones(store: Store) -> None:
    await inbound(store, 1, "um café da manhã")
    await inbound(store, 2, "cafe com leite")
    await inbound(store, 3, "chá")

    assert [m.body for m in await store.search("cafe")] == ["cafe com leite", "um café da manhã"]
    assert [m.body for m in await store.search("café")] == ["um café da manhã", "cafe com leite"]
    assert [m.body for m in await store.search("CAFÉ MANHA")] == ["um café da manhã"]
    assert [m.body for m in await store.search("cafe", limit=1, offset=1)] == ["um café da manhã"]
    assert [m.body for m in await store.search("cha")] == ["chá"]
