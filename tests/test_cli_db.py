"""`wa-inbox db stats` and `wa-inbox db vacuum` in a subprocess, as a user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.store.test_contract_stats_vacuum import fill
from tests.support.cli import assert_one_line_error, run
from tests.support.store import inbound
from wa_inbox.store import open_store
from wa_inbox.store.types import STATS_TABLES


async def with_free_pages(path: Path, count: int = 600) -> None:
    async with open_store(path) as store:
        await fill(store, count)
        await store.prune_webhook_log(datetime(2025, 6, 1, tzinfo=UTC))


def freelist(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA freelist_count").fetchone()[0])


def test_stats_as_text_and_json(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    asyncio.run(with_free_pages(db, 30))

    text = run(tmp_path, "db", "stats", "--db", str(db))
    data = run(tmp_path, "db", "stats", "--output", "json", "--db", str(db))

    assert text.returncode == data.returncode == 0, text.stderr + data.stderr
    assert text.stdout.splitlines()[0].split() == ["messages", "30"]
    stats = json.loads(data.stdout)
    assert list(stats["rows"]) == list(STATS_TABLES)
    assert (stats["rows"]["messages"], stats["rows"]["webhook_log"]) == (30, 0)
    assert stats["bytes_on_disk"] == db.stat().st_size
    assert stats["free_bytes"] == stats["free_pages"] * stats["page_size"] > 0
    assert stats["vacuums_online"] is True


def test_vacuum_shrinks_the_file_while_another_process_writes(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    asyncio.run(with_free_pages(db, 1500))
    before = db.stat().st_size

    async def vacuum_while_writing() -> tuple[int, str, str, int]:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wa_inbox",
            "db",
            "vacuum",
            "--db",
            str(db),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        written = 0
        async with open_store(db) as store:
            communicate = asyncio.ensure_future(process.communicate())
            while not communicate.done():  # small messages, as webhooks come in
                await inbound(store, 10_000 + written)
                written += 1
        stdout, stderr = await communicate
        assert process.returncode is not None
        return process.returncode, stdout.decode(), stderr.decode(), written

    status, stdout, stderr, written = asyncio.run(vacuum_while_writing())

    assert status == 0, stderr
    assert stderr.splitlines()[-1].startswith("wa-inbox: vacuum: 0 free pages left, ")
    assert stdout.startswith("Gave back ")
    assert written > 0
    # The writes go on until the command has exited, so one may free a B-tree page after its last step:
    # the vacuum left none (its own last line says 0), and at most that one is left now, of 1,500.
    assert freelist(db) <= 1
    assert db.stat().st_size < before - 2_000_000  # 1,500 requests of 8 kB went
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1500 + written


def test_a_database_made_before_is_told_to_vacuum_full_once(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE made_before (x)")
    asyncio.run(with_free_pages(db, 300))

    refused = run(tmp_path, "db", "vacuum", "--db", str(db))
    assert_one_line_error(refused, 2, "db vacuum --full", "once")

    async def hold_the_lease() -> None:
        async with open_store(db) as store:
            await store.acquire_sender_lease("serve-on-host-1", timedelta(minutes=5))

    asyncio.run(hold_the_lease())
    while_sending = run(tmp_path, "db", "vacuum", "--full", "--db", str(db))
    assert_one_line_error(while_sending, 1, "serve-on-host-1", "stop `wa-inbox serve`")
    assert freelist(db) > 0

    async def release() -> None:
        async with open_store(db) as store:
            await store.release_sender_lease("serve-on-host-1")

    asyncio.run(release())
    full = run(tmp_path, "db", "vacuum", "--full", "--db", str(db))
    assert full.returncode == 0, full.stderr
    assert "locked until this ends" in full.stderr
    assert freelist(db) == 0
    assert json.loads(run(tmp_path, "db", "stats", "--output", "json", "--db", str(db)).stdout)[
        "vacuums_online"
    ]


def test_nothing_to_give_back(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    asyncio.run(with_free_pages(db, 0))

    result = run(tmp_path, "db", "vacuum", "--db", str(db))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Gave back 0 B")
