"""Every older SQLite schema upgrades to the newest with nothing lost.

For each k, a database is built as the release with `MIGRATIONS[:k]` left it and filled, with raw SQL
as that release wrote it, with a row of every kind its tables hold. Opening it with today's store
migrates it; everything written before must then read back through the `Store` protocol.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.models import Direction, StatusUpdate, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store import MessageQuery, open_store
from wa_inbox.store.codec import ts
from wa_inbox.store.migrations import MIGRATIONS, migrate

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+34612345678"
BUSINESS = "whatsapp:+14155238886"
T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
HX = "HX" + "b" * 32
AD = {"ReferralNumMedia": "0", "ReferralSourceUrl": "https://fb.me/xyz", "ReferralSourceType": "ad"}


def at(minutes: int) -> str:
    return ts(T0 + timedelta(minutes=minutes))


def sid(n: int) -> str:
    return f"SM{n:032x}"


def tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


RENAMED = {
    "contact_address": "address",
    "template_sid": "content_sid",
    "template_variables": "content_variables",
}
"""Columns `011_one_vocabulary` renamed: a release from then on writes the new names."""


def insert(conn: sqlite3.Connection, table: str, **values: object) -> int:
    present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    values = {RENAMED[k] if k not in present and k in RENAMED else k: v for k, v in values.items()}
    columns = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))
    return int(cursor.lastrowid or 0)


def message(conn: sqlite3.Connection, **values: object) -> int:
    status = str(values["status"])
    defaults = {"status_rank": status_rules.rank(status), "created_at": at(0), "updated_at": at(0)}
    return insert(conn, "messages", **{**defaults, **values})


def fill(conn: sqlite3.Connection) -> None:
    """A row of every kind the schema at hand holds, written as the release that had it did."""
    present = tables(conn)
    conn.execute("UPDATE meta SET change_seq = 40")
    insert(
        conn,
        "contacts",
        address=ANA,
        profile_name="Ana",
        wa_id="5511987654321",
        last_inbound_at=at(3),
        created_at=at(0),
        change_seq=10,
    )
    insert(
        conn,
        "contacts",
        address=BEN,
        profile_name="Ben",
        created_at=at(0),
        opted_out=1,
        opted_out_at=at(4),
        opted_out_source="keyword 'STOP'",
        change_seq=12,
    )
    insert(
        conn,
        "opt_events",
        contact_address=BEN,
        action="stop",
        source="keyword 'STOP'",
        message_sid=sid(9),
        at=at(4),
    )

    photo = message(
        conn,
        sid=sid(1),
        direction="in",
        contact_address=ANA,
        from_addr=ANA,
        to_addr=BUSINESS,
        body="Meu pedido não chegou",
        num_media=1,
        referral=json.dumps(AD),
        status="received",
        raw_body="Body=Meu+pedido",
        created_at=at(1),
        updated_at=at(1),
        change_seq=10,
    )
    insert(
        conn,
        "media",
        message_id=photo,
        position=0,
        twilio_url="https://api.twilio.com/m/0",
        content_type="image/jpeg",
        local_path="/data/media/in/0.jpg",
        size_bytes=2048,
    )
    message(
        conn,
        sid=sid(2),
        direction="out",
        contact_address=ANA,
        from_addr=BUSINESS,
        to_addr=ANA,
        body="Hi Ana",
        template_sid=HX,
        template_variables=json.dumps({"1": "Ana"}),
        status="delivered",
        idempotency_key="k2",
        attempts=1,
        created_at=at(2),
        updated_at=at(2),
        change_seq=11,
    )
    message(
        conn,
        sid=sid(3),
        direction="out",
        contact_address=ANA,
        from_addr=BUSINESS,
        to_addr=ANA,
        body="Too late",
        status="failed",
        error_code=63016,
        error_message="Outside the window",
        idempotency_key="k3",
        attempts=1,
        created_at=at(3),
        updated_at=at(3),
        change_seq=11,
    )
    message(
        conn,
        sid=sid(4),
        direction="in",
        contact_address=ANA,
        from_addr=ANA,
        to_addr=BUSINESS,
        body="Obrigada",
        replied_to_sid=sid(2),
        status="received",
        created_at=at(3),
        updated_at=at(3),
        read_by_agent_at=at(5),
        change_seq=12,
    )
    message(
        conn,
        direction="out",
        contact_address=BEN,
        to_addr=BEN,
        body="queued before the upgrade",
        status="pending",
        idempotency_key="k5",
        created_at=at(6),
        updated_at=at(6),
    )
    message(
        conn,
        direction="out",
        contact_address=BEN,
        to_addr=BEN,
        body="in flight at the upgrade",
        status="sending",
        idempotency_key="k6",
        attempts=1,
        sending_started_at=at(7),
        created_at=at(7),
        updated_at=at(7),
    )
    for n, status, received in ((2, "sent", 2), (2, "delivered", 3), (3, "failed", 4)):
        insert(
            conn,
            "status_events",
            message_sid=sid(n),
            status=status,
            received_at=at(received),
            error_code=63016 if status == "failed" else None,
        )

    log = {"kind": "inbound", "path": "/twilio/inbound", "headers": json.dumps({"host": "inbox"})}
    insert(
        conn, "webhook_log", received_at=at(1), verdict="accepted", message_sid=sid(1), body="Body=x", **log
    )
    insert(
        conn,
        "webhook_log",
        received_at=at(8),
        verdict="forbidden",
        reason="bad signature",
        body="Body=forged",
        **log,
    )
    insert(
        conn, "webhook_log", received_at=at(9), verdict="accepted", message_sid=sid(4), body="Body=y", **log
    )
    insert(conn, "webhook_log", received_at=at(30), verdict="accepted", body="", **{**log, "path": "/seed"})

    if "templates" in present:
        insert(
            conn,
            "templates",
            sid=HX,
            friendly_name="order_shipped",
            language="en",
            types=json.dumps({"twilio/text": {"body": "Hi {{1}}"}}),
            kind="twilio/text",
            body="Hi {{1}}",
            variables=json.dumps({"1": "Ana"}),
            actions="[]",
            media="[]",
            approval="approved",
            category="UTILITY",
            synced_at=at(0),
        )
    if "media_files" in present:
        insert(
            conn,
            "media_files",
            id="f" * 32,
            path="/data/media/out/x.png",
            filename="x.png",
            content_type="image/png",
            size_bytes=1234,
            created_at=at(0),
        )
    if "drafts" in present:
        insert(conn, "drafts", contact_address=ANA, body="Olá Ana, ", updated_at=at(5))


@pytest.mark.parametrize("k", range(1, len(MIGRATIONS) + 1), ids=lambda k: MIGRATIONS[k - 1][0])
async def test_an_older_database_upgrades_with_nothing_lost(tmp_path: Path, k: int) -> None:
    path = tmp_path / "inbox.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrate(conn, MIGRATIONS[:k])
        conn.execute("BEGIN")
        fill(conn)
        conn.execute("COMMIT")
        had = tables(conn)

    store = await open_store(path)
    try:
        messages = {m.sid or m.body: m for m in await store.list_messages(MessageQuery(limit=100))}
        thread = await store.thread_page(ANA)
        found = await store.search("nao chegou")
        ana, ben = await store.get_contact(ANA), await store.get_contact(BEN)
        conversations = await store.list_conversations()
        last_webhook, rejected = await store.last_webhook_at(), await store.rejected_webhooks()
        status_again = await store.ingest_status(
            StatusUpdate(sid(2), "delivered", to_addr=ANA),
            WebhookRecord(WebhookKind.STATUS, "/t", Verdict.ACCEPTED, "", {}, T0, None, sid(2)),
        )
        templates = await store.list_templates()
        hosted = await store.get_hosted_file("f" * 32)
        draft = await store.get_draft(ANA)
        pending = await store.claim_unsent(10)
        lease = await store.acquire_sender_lease("serve@upgraded", timedelta(seconds=15))
        left_in_flight = await store.take_over_sending(lease)
    finally:
        await store.close()

    with closing(sqlite3.connect(path)) as conn:
        applied = [name for (name,) in conn.execute("SELECT name FROM migrations ORDER BY name")]
        # What the protocol has no read for: the raw log's accepted rows (plus the retried callback's),
        # and the opt-out audit trail.
        kept = conn.execute("SELECT (SELECT COUNT(*) FROM webhook_log), (SELECT COUNT(*) FROM opt_events)")
        assert kept.fetchone() == (5, 1)
    assert applied == [name for name, _ in MIGRATIONS]

    assert len(messages) == 6
    photo, template, failed, reply = (messages[sid(n)] for n in (1, 2, 3, 4))
    assert (photo.direction, photo.body, photo.status, photo.referral) == (
        Direction.INBOUND,
        "Meu pedido não chegou",
        "received",
        AD,
    )
    assert [(m.url, m.content_type, m.local_path, m.size_bytes) for m in photo.media] == [
        ("https://api.twilio.com/m/0", "image/jpeg", "/data/media/in/0.jpg", 2048)
    ]
    assert (template.status, template.content_sid, template.content_variables) == (
        "delivered",
        HX,
        {"1": "Ana"},
    )
    assert template.template_name == ("order_shipped" if "templates" in had else None)
    assert (failed.status, failed.error_code, failed.error_message) == ("failed", 63016, "Outside the window")
    assert (reply.replied_to_sid, reply.replied_to_body, reply.read_by_agent_at) == (
        sid(2),
        "Hi Ana",
        T0 + timedelta(minutes=5),
    )
    assert [m.sid for m in thread] == [sid(1), sid(2), sid(3), sid(4)]
    assert [m.sid for m in found] == [sid(1)]  # the search index covers what was there before it

    assert status_again is False  # the status events were kept: a retried callback is known
    assert ana is not None and (ana.profile_name, ana.last_inbound_at, ana.opted_out) == (
        "Ana",
        T0 + timedelta(minutes=3),
        False,
    )
    assert ben is not None and (ben.opted_out, ben.opted_out_at, ben.opted_out_source) == (
        True,
        T0 + timedelta(minutes=4),
        "keyword 'STOP'",
    )
    assert [(c.contact.address, c.unread_count) for c in conversations] == [(BEN, 0), (ANA, 1)]

    assert [t.name for t in templates] == (["order_shipped"] if "templates" in had else [])
    if templates:
        assert templates[0] == TemplateInfo(
            HX,
            "order_shipped",
            "en",
            "twilio/text",
            "Hi {{1}}",
            {"1": "Ana"},
            "approved",
            "UTILITY",
            types={"twilio/text": {"body": "Hi {{1}}"}},
            synced_at=T0,
        )
    if "media_files" in had:
        assert hosted is not None and (hosted.filename, hosted.size_bytes) == ("x.png", 1234)
    else:
        assert hosted is None
    assert draft == ("Olá Ana, " if "drafts" in had else "")

    assert last_webhook == T0 + timedelta(minutes=30)  # the latest row written, whatever its path
    assert [(r.verdict, r.reason, r.body) for r in rejected] == [
        (Verdict.FORBIDDEN, "bad signature", "Body=forged")
    ]
    assert [job.body for job in pending] == ["queued before the upgrade"]
    assert lease.owner == "serve@upgraded"
    assert [job.body for job in left_in_flight] == ["queued before the upgrade", "in flight at the upgrade"]
