"""A database of the previous release, with a few thousand messages, upgrades in place: killed midway
(kill -9) it keeps the old schema whole; upgraded, every message, status, opt-out and template is there.

The previous release's schema is `MIGRATIONS[:PREVIOUS]`; the database is filled with raw SQL as that
release wrote it (the rows of `test_sqlite_upgrades`, a few thousand times over).
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wa_inbox.domain import status as status_rules
from wa_inbox.store import MessageQuery, migrations, open_store, upgrade_in_place
from wa_inbox.store.codec import ts
from wa_inbox.store.migrations import MIGRATIONS, migrate

PREVIOUS = [name for name, _ in MIGRATIONS].index("009_sender_lease") + 1
"""The last step the previous release had."""
CUSTOMERS = 300
MESSAGES = 4000
BUSINESS = "whatsapp:+14155238886"
T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
HX = "HX" + "c" * 32
OUT_STATUSES = ("sent", "delivered", "read", "failed", "undelivered")

KILL_MIDWAY = """
import sqlite3, sys, time
from wa_inbox.store.migrations import migrate
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
calls = 0
def midway():
    global calls
    calls += 1
    if calls == 50:  # well inside the upgrade's transaction: rows are being rewritten
        print("midway", flush=True)
        time.sleep(60)
    return 0
conn.set_progress_handler(midway, 100)
migrate(conn)
print("finished", flush=True)
"""


def address(n: int) -> str:
    return f"whatsapp:+3461{n:07d}"


def previous_release(path: Path) -> None:
    """A database as the previous release left it after a while of traffic."""
    rng = random.Random(7)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrate(conn, MIGRATIONS[:PREVIOUS])
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO templates (sid, friendly_name, language, types, kind, body, variables, actions,"
            " media, approval, category, synced_at) VALUES (?, 'order_shipped', 'en', '{}', 'twilio/text',"
            " 'Hi {{1}}', '{\"1\": \"x\"}', '[]', '[]', 'approved', 'UTILITY', ?)",
            (HX, ts(T0)),
        )
        for n in range(CUSTOMERS):
            opted_out = n % 50 == 0
            conn.execute(
                "INSERT INTO contacts (address, profile_name, created_at, opted_out, opted_out_at,"
                " opted_out_source) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    address(n),
                    f"Customer {n}",
                    ts(T0),
                    opted_out,
                    ts(T0) if opted_out else None,
                    "keyword 'STOP'" if opted_out else None,
                ),
            )
            if opted_out:
                conn.execute(
                    "INSERT INTO opt_events (contact_address, action, source, at) VALUES (?, 'stop', ?, ?)",
                    (address(n), "keyword 'STOP'", ts(T0)),
                )
        for n in range(MESSAGES):
            customer = address(rng.randrange(CUSTOMERS))
            at = ts(T0 + timedelta(minutes=n))
            if rng.random() < 0.5:
                read = None if rng.random() < 0.05 else at
                conn.execute(
                    "INSERT INTO messages (sid, direction, contact_address, from_addr, to_addr, body, status,"
                    " status_rank, created_at, updated_at, read_by_agent_at, change_seq)"
                    " VALUES (?, 'in', ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?)",
                    (
                        f"SM{n:032x}",
                        customer,
                        customer,
                        BUSINESS,
                        f"pedido {n} chegou?",
                        status_rules.rank("received"),
                        at,
                        at,
                        read,
                        n,
                    ),
                )
                conn.execute("UPDATE contacts SET last_inbound_at = ? WHERE address = ?", (at, customer))
                continue
            status = rng.choice(OUT_STATUSES)
            template = n % 10 == 0
            conn.execute(
                "INSERT INTO messages (sid, idempotency_key, direction, contact_address, from_addr, to_addr,"
                " body, template_sid, template_variables, status, status_rank, error_code, created_at,"
                " updated_at, attempts, change_seq)"
                " VALUES (?, ?, 'out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (
                    f"SM{n:032x}",
                    f"k{n}",
                    customer,
                    BUSINESS,
                    customer,
                    f"reply {n}",
                    HX if template else None,
                    json.dumps({"1": str(n)}) if template else None,
                    status,
                    status_rules.rank(status),
                    63016 if status == "failed" else None,
                    at,
                    at,
                    n,
                ),
            )
            conn.execute(
                "INSERT INTO status_events (message_sid, status, received_at) VALUES (?, ?, ?)",
                (f"SM{n:032x}", status, at),
            )
        conn.execute("COMMIT")


def snapshot(path: Path) -> dict[str, Any]:
    """What must survive, read with plain SQL (by the column names of the schema at hand)."""
    with closing(sqlite3.connect(path)) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}

        def renamed(old: str, new: str) -> str:
            return old if old in columns else new

        return {
            "messages": conn.execute(
                f"SELECT id, sid, direction, {renamed('contact_address', 'address')}, body, status,"
                f" error_code, {renamed('template_sid', 'content_sid')},"
                f" {renamed('template_variables', 'content_variables')}, read_by_agent_at"
                " FROM messages ORDER BY id"
            ).fetchall(),
            "opted_out": conn.execute(
                "SELECT address FROM contacts WHERE opted_out ORDER BY address"
            ).fetchall(),
            "opt_events": conn.execute("SELECT * FROM opt_events ORDER BY id").fetchall(),  # by position
            "status_events": conn.execute(
                "SELECT message_sid, status FROM status_events ORDER BY id"
            ).fetchall(),
            "templates": conn.execute("SELECT sid, friendly_name, approval FROM templates").fetchall(),
        }


def applied(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM migrations ORDER BY name")]


def test_kill_9_during_the_upgrade_leaves_the_previous_schema_whole(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    previous_release(path)
    before = snapshot(path)

    upgrade = subprocess.Popen(
        [sys.executable, "-c", KILL_MIDWAY, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert upgrade.stdout is not None and upgrade.stdout.readline().strip() == "midway"
    upgrade.send_signal(signal.SIGKILL)
    upgrade.wait(10)

    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert applied(path) == sorted(name for name, _ in MIGRATIONS[:PREVIOUS])
    assert "conversations" not in tables  # not a mix: the step is wholly absent
    assert snapshot(path) == before


async def test_the_previous_release_upgrades_in_place_with_everything_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "REPORT_AFTER", 0.0)  # every step counts as long: it says so
    path = tmp_path / "inbox.db"
    previous_release(path)
    before = snapshot(path)
    lines: list[str] = []

    steps = upgrade_in_place(path, lines.append)

    assert steps == [name for name, _ in MIGRATIONS[PREVIOUS:]]
    assert [line.split(")")[0] for line in lines] == [f"Upgraded the database ({name}" for name in steps]
    assert upgrade_in_place(path, lines.append) == []  # once is enough
    assert snapshot(path) == before
    async with open_store(path, read_only=True) as store:
        messages = await store.list_messages(MessageQuery(limit=MESSAGES + 1))
        conversations = await store.list_conversations()
        templates = await store.list_templates()
        counts = await store.conversation_counts()

    by_sid = {m.sid: m for m in messages}
    assert len(by_sid) == MESSAGES
    for row_id, sid, direction, customer, body, status, error_code, template, variables, read in before[
        "messages"
    ]:
        message = by_sid[sid]
        assert (message.id, message.direction.value, message.address, message.body) == (
            row_id,
            direction,
            customer,
            body,
        )
        assert (message.status, message.error_code, message.content_sid) == (status, error_code, template)
        assert message.content_variables == (json.loads(variables) if variables else None)
        assert (message.read_by_agent_at is None) == (read is None)
    unread: dict[str, int] = {}
    last: dict[str, int] = {}
    for row_id, _, direction, customer, *_, read in before["messages"]:
        last[customer] = row_id
        unread[customer] = unread.get(customer, 0) + (direction == "in" and read is None)
    assert {
        c.contact.address: (c.last_message.id if c.last_message else 0, c.unread_count) for c in conversations
    } == {address(n): (last.get(address(n), 0), unread.get(address(n), 0)) for n in range(CUSTOMERS)}
    assert counts.unread_messages == sum(unread.values())
    assert sorted(c.contact.address for c in conversations if c.contact.opted_out) == [
        a for (a,) in before["opted_out"]
    ]
    assert [(t.sid, t.name, t.approval) for t in templates] == before["templates"]
