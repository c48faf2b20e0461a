"""A store opened to read only (`messages list`, `templates list`) starts no writer process."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.store import inbound
from wa_inbox.store import StoreError, open_store
from wa_inbox.store.migrations import MIGRATIONS, migrate
from wa_inbox.store.sqlite import SqliteStore


async def test_a_read_only_store_reads_and_starts_no_writer(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    writer = await open_store(path)
    await inbound(writer, 1, "hello")
    await writer.close()

    reader = await open_store(path, read_only=True)
    try:
        assert isinstance(reader, SqliteStore) and reader._writer.process_id is None
        assert [m.body for m in await reader.thread_page("whatsapp:+5511987654321")] == ["hello"]
        with pytest.raises(StoreError, match="read-only"):
            await reader.save_draft("whatsapp:+5511987654321", "no")
    finally:
        await reader.close()


async def test_a_read_only_open_of_an_older_schema_migrates_it_first(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    with closing(sqlite3.connect(path)) as conn:
        migrate(conn, MIGRATIONS[:-1])
        conn.commit()
    reader = await open_store(path, read_only=True)
    try:
        assert await reader.list_conversations() == []
    finally:
        await reader.close()
    with closing(sqlite3.connect(path)) as conn:
        done = {name for (name,) in conn.execute("SELECT name FROM migrations")}
    assert {name for name, _ in MIGRATIONS} <= done
