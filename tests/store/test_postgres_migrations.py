"""PostgreSQL's migrations: replicas starting together migrate once; a newer schema is refused in one
sentence; `upgrade_in_place` (what `wa-inbox db migrate` and the inbox run) applies and reports steps."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from tests.support.postgres import fresh_database, rows
from wa_inbox.store import StoreError, open_store, upgrade_in_place
from wa_inbox.store.postgres import migrations
from wa_inbox.store.postgres.schema import MIGRATIONS


async def test_replicas_starting_together_on_a_new_database_migrate_it_once() -> None:
    database = fresh_database(migrated=False)
    stores = await asyncio.gather(*(open_store(database) for _ in range(4)))
    for store in stores:
        await store.close()

    names = [name for name, _ in MIGRATIONS]
    assert rows(database, "SELECT name FROM schema_migrations ORDER BY name") == [(n,) for n in names]


async def test_a_database_a_newer_release_migrated_is_refused_in_one_sentence() -> None:
    database = fresh_database()
    rows(database, "INSERT INTO schema_migrations (name) VALUES ('999_from_the_future') RETURNING name")

    with pytest.raises(StoreError) as refused:
        await open_store(database)

    message = str(refused.value)
    assert "written by a newer wa-inbox" in message and "999_from_the_future" in message
    assert "upgrade wa-inbox" in message and "\n" not in message


def test_upgrade_in_place_applies_what_is_missing_once_and_reports_it() -> None:
    database = fresh_database(migrated=False)
    said: list[str] = []

    assert upgrade_in_place(database, said.append) == [name for name, _ in MIGRATIONS]
    assert said == [f"applying {name}" for name, _ in MIGRATIONS]
    assert upgrade_in_place(database, said.append) == []


async def test_a_read_only_store_reads_and_refuses_to_write() -> None:
    database = fresh_database()
    store = await open_store(database, read_only=True)
    try:
        assert await store.list_templates() == []
        with pytest.raises(StoreError, match="read-only"):
            await store.save_reply("hello", "Hi!", "ana")
    finally:
        await store.close()


async def test_a_database_of_the_previous_schema_opens_upgraded_with_nothing_lost() -> None:
    database = fresh_database(migrated=False)
    async with await psycopg.AsyncConnection.connect(database.conninfo, autocommit=True) as conn:
        await migrations.migrate(conn, "the previous release's", steps=MIGRATIONS[:-1])
    rows(
        database,
        "INSERT INTO contacts (address, created_at) VALUES ('whatsapp:+5511987654321', now()) RETURNING 1",
    )
    rows(
        database,
        "INSERT INTO messages (sid, direction, address, body, status, status_rank, created_at, updated_at)"
        " VALUES ('SM' || repeat('a', 32), 'in', 'whatsapp:+5511987654321', 'olá', 'received', 0,"
        " now(), now()) RETURNING 1",
    )

    store = await open_store(database)
    try:
        (message,) = await store.thread_page("whatsapp:+5511987654321")
        (conversation,) = await store.list_conversations()
    finally:
        await store.close()

    assert (message.body, conversation.unread_count) == ("olá", 1)
    assert rows(database, "SELECT count(*) FROM schema_migrations") == [(len(MIGRATIONS),)]
