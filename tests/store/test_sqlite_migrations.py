"""SQLite migrations on databases an older version left: each step fixes what that version wrote."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wa_inbox.domain.models import Verdict
from wa_inbox.store.codec import ts
from wa_inbox.store.migrations import MIGRATIONS, migrate
from wa_inbox.store.sqlite import SqliteStore

ANA = "whatsapp:+5511987654321"
T = "2025-06-02T09:00:00.000000Z"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def older(path: Path, before: str) -> sqlite3.Connection:
    """A database as the version without step `before` (and the steps after it) left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[: [name for name, _ in MIGRATIONS].index(before)])
    conn.execute("INSERT INTO contacts (address, created_at) VALUES (?, ?)", (ANA, T))
    return conn


def old_inbound(conn: sqlite3.Connection, n: int, referral: dict[str, str] | None) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    address = "contact_address" if "contact_address" in columns else "address"  # 011 renamed it
    conn.execute(
        f"INSERT INTO messages (sid, direction, {address}, body, referral, status, status_rank,"
        " created_at, updated_at) VALUES (?, 'in', ?, 'hi', ?, 'received', 0, ?, ?)",
        (f"SM{n:032x}", ANA, json.dumps(referral) if referral is not None else None, T, T),
    )


async def test_referrals_without_a_source_are_dropped(tmp_path: Path) -> None:
    ad = {"ReferralNumMedia": "0", "ReferralSourceUrl": "https://fb.me/xyz", "ReferralSourceType": "ad"}
    with older(tmp_path / "inbox.db", "006_referrals_only_from_ads") as conn:
        old_inbound(conn, 1, {"ReferralNumMedia": "0"})  # what every plain message was stored with
        old_inbound(conn, 2, {"ReferralNumMedia": "0", "ReferralSourceType": "ad", "ReferralBody": ""})
        old_inbound(conn, 3, ad)
        old_inbound(conn, 4, None)
    conn.close()

    store = await SqliteStore.open(tmp_path / "inbox.db")
    try:
        messages = await store.thread_page(ANA)
    finally:
        await store.close()

    assert [m.referral for m in messages] == [{}, {}, ad, {}]
    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        rows = conn.execute("SELECT referral IS NULL FROM messages ORDER BY id").fetchall()
    assert rows == [(1,), (1,), (0,), (1,)]


async def test_migration_008_cuts_old_rejections_to_samples(tmp_path: Path) -> None:
    with older(tmp_path / "inbox.db", "008_webhook_log_bounds") as conn:
        insert = (
            "INSERT INTO webhook_log (received_at, kind, path, verdict, body, headers)"
            " VALUES (?, 'status', '/twilio/status', ?, ?, ?)"
        )
        huge_headers = json.dumps({"x-junk": "j" * 100_000, "host": "example"})
        conn.execute(insert, (ts(NOW), "forbidden", "Body=" + "f" * 60_000, huge_headers))
        conn.execute(insert, (ts(NOW), "accepted", "Body=" + "a" * 5_000, json.dumps({"host": "h"})))
        conn.execute(insert, (ts(NOW), "malformed", "Body=short", json.dumps({"host": "h"})))
    conn.close()

    store = await SqliteStore.open(tmp_path / "inbox.db")
    try:
        rejected = await store.rejected_webhooks()
    finally:
        await store.close()

    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        kept = conn.execute(
            "SELECT verdict, length(body), body_bytes, length(headers), header_bytes"
            " FROM webhook_log ORDER BY id"
        ).fetchall()
    assert kept == [
        ("forbidden", 1024, 60_005, 2, len(huge_headers)),
        ("accepted", 5_005, None, len('{"host": "h"}'), None),  # Twilio's, whole, as before
        ("malformed", 10, None, len('{"host": "h"}'), None),
    ]
    assert [(r.verdict, r.body_bytes, r.headers) for r in rejected] == [
        (Verdict.MALFORMED, None, {"host": "h"}),
        (Verdict.FORBIDDEN, 60_005, {}),
    ]


async def test_migration_012_ages_files_downloaded_before_fetched_at_by_their_message(tmp_path: Path) -> None:
    with older(tmp_path / "inbox.db", "012_media_retention") as conn:
        old_inbound(conn, 1, None)
        conn.execute(
            "INSERT INTO media (message_id, position, twilio_url, content_type, local_path, size_bytes)"
            " VALUES (1, 0, 'https://api.twilio.com/m/0', 'image/jpeg', '/m/inbound/1.jpg', 10),"
            " (1, 1, 'https://api.twilio.com/m/1', 'image/jpeg', NULL, NULL)"
        )
    conn.close()

    store = await SqliteStore.open(tmp_path / "inbox.db")
    try:
        (old,) = await store.expired_media(NOW, 10)
        claimable = await store.claim_media_downloads(10, timedelta(minutes=1))
        await store.record_media_removed([old], "removed after 30 days")
        again = await store.claim_media_downloads(10, timedelta(minutes=1))
    finally:
        await store.close()

    assert (old.path, ts(old.stored_at)) == ("/m/inbound/1.jpg", T)  # the message's time
    assert [job.index for job in claimable] == [1]  # the one never downloaded is still due
    assert again == []  # the removed one is not
