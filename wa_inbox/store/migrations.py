"""Schema migrations: an ordered list of named steps, each recorded in the same transaction as its change."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence

from wa_inbox.store.errors import NewerSchema

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_initial",
        """
        CREATE TABLE meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            change_seq INTEGER NOT NULL
        );
        INSERT INTO meta (id, change_seq) VALUES (1, 0);

        CREATE TABLE contacts (
            address TEXT PRIMARY KEY,
            profile_name TEXT,
            wa_id TEXT,
            last_inbound_at TEXT,
            opted_out INTEGER NOT NULL DEFAULT 0,
            opted_out_at TEXT,
            opted_out_source TEXT,
            created_at TEXT NOT NULL,
            change_seq INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            sid TEXT UNIQUE,
            idempotency_key TEXT UNIQUE,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            contact_address TEXT NOT NULL REFERENCES contacts (address),
            from_addr TEXT,
            to_addr TEXT,
            messaging_service_sid TEXT,
            body TEXT NOT NULL DEFAULT '',
            message_type TEXT,
            num_media INTEGER NOT NULL DEFAULT 0,
            latitude REAL,
            longitude REAL,
            location_address TEXT,
            location_label TEXT,
            button_text TEXT,
            button_payload TEXT,
            referral TEXT,
            replied_to_sid TEXT,
            forwarded INTEGER NOT NULL DEFAULT 0,
            frequently_forwarded INTEGER NOT NULL DEFAULT 0,
            template_sid TEXT,
            template_variables TEXT,
            status TEXT NOT NULL,
            status_rank INTEGER NOT NULL,
            error_code INTEGER,
            error_message TEXT,
            raw_body TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            read_by_agent_at TEXT,
            opt_confirmation INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            sending_started_at TEXT,
            change_seq INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX messages_by_contact ON messages (contact_address, id);
        CREATE INDEX messages_by_change ON messages (change_seq);
        CREATE INDEX messages_unsent ON messages (status, id) WHERE status IN ('pending', 'sending');

        CREATE TABLE media (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            twilio_url TEXT NOT NULL,
            content_type TEXT NOT NULL,
            local_path TEXT,
            size_bytes INTEGER,
            UNIQUE (message_id, position)
        );

        CREATE TABLE status_events (
            id INTEGER PRIMARY KEY,
            message_sid TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code INTEGER,
            error_message TEXT,
            received_at TEXT NOT NULL,
            UNIQUE (message_sid, status)
        );

        CREATE TABLE webhook_log (
            id INTEGER PRIMARY KEY,
            received_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            path TEXT NOT NULL,
            verdict TEXT NOT NULL,
            reason TEXT,
            message_sid TEXT,
            body TEXT NOT NULL,
            headers TEXT NOT NULL
        );
        CREATE INDEX webhook_log_by_verdict ON webhook_log (verdict, id);

        CREATE TABLE opt_events (
            id INTEGER PRIMARY KEY,
            contact_address TEXT NOT NULL REFERENCES contacts (address),
            action TEXT NOT NULL CHECK (action IN ('stop', 'start')),
            source TEXT NOT NULL,
            message_sid TEXT,
            at TEXT NOT NULL
        );
        """,
    ),
    (
        "002_search",
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5 (
            body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
        );
        INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages;
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
            INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
        END
        """,
    ),
    (
        "003_templates",
        """
        CREATE TABLE templates (
            sid TEXT PRIMARY KEY,
            friendly_name TEXT NOT NULL,
            language TEXT NOT NULL,
            types TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            variables TEXT NOT NULL,
            actions TEXT NOT NULL,
            media TEXT NOT NULL,
            approval TEXT NOT NULL,
            category TEXT,
            rejection_reason TEXT,
            synced_at TEXT NOT NULL
        );
        CREATE INDEX templates_by_name ON templates (friendly_name, language)
        """,
    ),
    (
        "004_media_files",
        """
        CREATE TABLE media_files (
            id TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );

        ALTER TABLE media ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE media ADD COLUMN next_attempt_at TEXT;
        ALTER TABLE media ADD COLUMN last_error TEXT;
        ALTER TABLE media ADD COLUMN fetched_at TEXT;
        ALTER TABLE media ADD COLUMN gave_up INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX media_to_download ON media (id) WHERE local_path IS NULL AND gave_up = 0
        """,
    ),
    (
        "005_rejections_index",
        # Only rejections are ever looked up by verdict: accepted webhooks, nearly all of them, need
        # not pay for an index entry.
        """
        DROP INDEX webhook_log_by_verdict;
        CREATE INDEX webhook_log_rejections ON webhook_log (id) WHERE verdict NOT IN ('accepted', 'duplicate')
        """,
    ),
    (
        "006_referrals_only_from_ads",
        # Twilio sends `ReferralNumMedia=0` on every WhatsApp inbound, and every message was stored as
        # if it came from an ad. Only one with a source (id, URL, body or headline) did.
        """
        UPDATE messages SET referral = NULL
        WHERE referral IS NOT NULL
            AND COALESCE(json_extract(referral, '$.ReferralSourceId'), '') = ''
            AND COALESCE(json_extract(referral, '$.ReferralSourceUrl'), '') = ''
            AND COALESCE(json_extract(referral, '$.ReferralBody'), '') = ''
            AND COALESCE(json_extract(referral, '$.ReferralHeadline'), '') = ''
        """,
    ),
    (
        "007_drafts",
        # One unsent text per conversation, kept across restarts. No change_seq: a draft is not news
        # for other screens (see `writes.save_draft`).
        """
        CREATE TABLE drafts (
            contact_address TEXT PRIMARY KEY REFERENCES contacts (address),
            body TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
    ),
    (
        "008_webhook_log_bounds",
        # A rejected request is kept as a bounded sample (see `receiver.rejections`): the sizes of what
        # came, besides what was kept of it. Rejections stored whole before are cut the same way;
        # accepted webhooks are stored whole, as before, and their sizes stay null.
        """
        ALTER TABLE webhook_log ADD COLUMN body_bytes INTEGER;
        ALTER TABLE webhook_log ADD COLUMN header_bytes INTEGER;
        UPDATE webhook_log SET body_bytes = length(CAST(body AS BLOB)), body = substr(body, 1, 1024)
        WHERE verdict NOT IN ('accepted', 'duplicate') AND length(body) > 1024;
        UPDATE webhook_log SET header_bytes = length(CAST(headers AS BLOB)), headers = '{}'
        WHERE verdict NOT IN ('accepted', 'duplicate') AND length(headers) > 2048
        """,
    ),
    (
        "009_sender_lease",
        # One sender per database (see `domain.lease`): the lease row, and on each claim the owner
        # and term it was made under, so recovery takes only claims whose lease has ended. Rows left
        # `sending` by an older version have neither, and are recovered as before.
        """
        CREATE TABLE sender_lease (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            owner TEXT NOT NULL,
            term INTEGER NOT NULL,
            acquired_at TEXT NOT NULL,
            renewed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        ALTER TABLE messages ADD COLUMN sending_owner TEXT;
        ALTER TABLE messages ADD COLUMN sending_term INTEGER
        """,
    ),
    (
        "010_conversations",
        # The inbox's read model: one row per conversation with what its list needs, kept by triggers
        # in the transaction of the write that changes it (whatever the write path), so that the
        # list, its counts and its jumps read a page by index and never scan messages. The tick,
        # window and opt-out are read through the row's keys (the last message, the contact).
        # `status` and `assignee` are the team inbox's; `change_seq` is the change feed's.
        """
        CREATE INDEX messages_unread ON messages (contact_address)
            WHERE direction = 'in' AND read_by_agent_at IS NULL;
        CREATE INDEX contacts_by_last_inbound ON contacts (last_inbound_at);

        CREATE TABLE conversations (
            address TEXT PRIMARY KEY REFERENCES contacts (address),
            last_message_id INTEGER NOT NULL DEFAULT 0,
            unread INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'open',
            assignee TEXT,
            change_seq INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO conversations (address, last_message_id, unread, change_seq)
        SELECT c.address,
            COALESCE((SELECT MAX(m.id) FROM messages m WHERE m.contact_address = c.address), 0),
            (SELECT COUNT(*) FROM messages u WHERE u.contact_address = c.address
                AND u.direction = 'in' AND u.read_by_agent_at IS NULL),
            c.change_seq
        FROM contacts c;
        CREATE INDEX conversations_by_activity ON conversations (last_message_id, address);
        CREATE INDEX conversations_unread ON conversations (last_message_id) WHERE unread > 0;
        CREATE INDEX conversations_by_change ON conversations (change_seq);

        CREATE TRIGGER conversations_new_contact AFTER INSERT ON contacts BEGIN
            INSERT INTO conversations (address, change_seq) VALUES (new.address, new.change_seq)
            ON CONFLICT (address) DO NOTHING;
        END;
        CREATE TRIGGER conversations_new_message AFTER INSERT ON messages BEGIN
            UPDATE conversations SET
                last_message_id = max(last_message_id, new.id),
                unread = unread + (new.direction = 'in' AND new.read_by_agent_at IS NULL),
                change_seq = max(change_seq, new.change_seq)
            WHERE address = new.contact_address;
        END;
        CREATE TRIGGER conversations_read AFTER UPDATE OF read_by_agent_at ON messages
            WHEN new.direction = 'in' AND (old.read_by_agent_at IS NULL) != (new.read_by_agent_at IS NULL)
        BEGIN
            UPDATE conversations SET
                unread = unread + (CASE WHEN new.read_by_agent_at IS NULL THEN 1 ELSE -1 END),
                change_seq = max(change_seq, new.change_seq)
            WHERE address = new.contact_address;
        END;
        CREATE TRIGGER conversations_message_gone AFTER DELETE ON messages BEGIN
            UPDATE conversations SET
                unread = unread - (old.direction = 'in' AND old.read_by_agent_at IS NULL),
                last_message_id = COALESCE(
                    (SELECT MAX(id) FROM messages WHERE contact_address = old.contact_address), 0)
            WHERE address = old.contact_address;
        END
        """,
    ),
    (
        "011_one_vocabulary",
        # One name per concept (CONTRIBUTING.md, "Vocabulary"): the customer is `address`, a template
        # is its Content API `content_sid` and `content_variables`, as in the code. Renames only:
        # SQLite rewrites the indexes and triggers that name these columns, and copies no row.
        """
        ALTER TABLE messages RENAME COLUMN contact_address TO address;
        ALTER TABLE messages RENAME COLUMN template_sid TO content_sid;
        ALTER TABLE messages RENAME COLUMN template_variables TO content_variables;
        ALTER TABLE opt_events RENAME COLUMN contact_address TO address;
        ALTER TABLE drafts RENAME COLUMN contact_address TO address
        """,
    ),
    (
        "012_media_retention",
        # `[retention] media_days`: a file retention removed is recorded, not forgotten, so the thread
        # says why it is gone and the downloader never fetches it again (`local_path` is cleared and
        # `removed_at` set, which `media_to_download` now leaves out). Inbound files age from when
        # they were downloaded: rows downloaded before `fetched_at` existed take their message's time.
        """
        ALTER TABLE media ADD COLUMN removed_at TEXT;
        ALTER TABLE media ADD COLUMN removed_reason TEXT;
        ALTER TABLE media_files ADD COLUMN removed_at TEXT;
        ALTER TABLE media_files ADD COLUMN removed_reason TEXT;
        UPDATE media SET fetched_at = (SELECT created_at FROM messages WHERE messages.id = media.message_id)
        WHERE local_path IS NOT NULL AND fetched_at IS NULL;
        DROP INDEX media_to_download;
        CREATE INDEX media_to_download ON media (id)
            WHERE local_path IS NULL AND gave_up = 0 AND removed_at IS NULL;
        CREATE INDEX media_on_disk ON media (fetched_at, id) WHERE local_path IS NOT NULL;
        CREATE INDEX media_files_on_disk ON media_files (created_at, id) WHERE removed_at IS NULL
        """,
    ),
    (
        "013_team",
        # The team inbox (#14, `domain.team`): who sent an outbound message (`author`, null for inbound
        # messages and for rows stored before agents had names), the snooze beside the read model's
        # `status` and `assignee` (010), the agents with the newest message id at their first sighting
        # (their unread counts start there) and their read marks, the thread's lines that are not
        # messages, labels, saved replies and presence. Added columns have no default to fill and new
        # tables start empty: the step rewrites no row of a year of messages. The indexes serve the
        # team views (by assignee, by status, by label) and a conversation's events and opt-out audit.
        """
        ALTER TABLE messages ADD COLUMN author TEXT;
        ALTER TABLE conversations ADD COLUMN snoozed_until TEXT;
        CREATE INDEX conversations_by_assignee ON conversations (assignee, last_message_id);
        CREATE INDEX conversations_by_status ON conversations (status, last_message_id);
        CREATE INDEX opt_events_by_address ON opt_events (address, id);

        CREATE TABLE agents (
            name TEXT PRIMARY KEY,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            first_message_id INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE agent_reads (
            agent TEXT NOT NULL,
            address TEXT NOT NULL,
            last_read_id INTEGER NOT NULL,
            PRIMARY KEY (agent, address)
        ) WITHOUT ROWID;
        CREATE TABLE thread_events (
            id INTEGER PRIMARY KEY,
            address TEXT NOT NULL REFERENCES contacts (address),
            kind TEXT NOT NULL,
            author TEXT NOT NULL,
            body TEXT NOT NULL,
            detail TEXT,
            created_at TEXT NOT NULL,
            change_seq INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX thread_events_by_address ON thread_events (address, id);
        CREATE INDEX thread_events_by_change ON thread_events (change_seq);
        CREATE TABLE conversation_labels (
            address TEXT NOT NULL REFERENCES contacts (address),
            label TEXT NOT NULL,
            PRIMARY KEY (address, label)
        ) WITHOUT ROWID;
        CREATE INDEX conversation_labels_by_label ON conversation_labels (label, address);
        CREATE TABLE saved_replies (
            name TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE presence (
            agent TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            typing INTEGER NOT NULL DEFAULT 0,
            until TEXT NOT NULL
        );
        CREATE INDEX presence_by_address ON presence (address, until)
        """,
    ),
    (
        "014_events",
        # The event outbox (`store.events`): each new webhook's event for Kafka, written in the
        # webhook's transaction, published and marked by the relay, pruned once published. Nothing is
        # backfilled: events start with the webhooks that arrive once they are turned on.
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            key TEXT NOT NULL,
            payload TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            created_at TEXT NOT NULL,
            published_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX events_unpublished ON events (id, created_at) WHERE published_at IS NULL;
        CREATE INDEX events_published ON events (published_at) WHERE published_at IS NOT NULL
        """,
    ),
    (
        "015_messages_by_created",
        # `messages list --date-sent…` (#16): a period of messages is a range of this index, newest
        # first along it (the id, SQLite's rowid, is in each entry), so a page of a day or of a year
        # reads only that page. Builds the index over every stored message once.
        """
        CREATE INDEX messages_by_created ON messages (created_at)
        """,
    ),
]


Report = Callable[[str], None]
"""Where a long upgrade says how it goes: a line at a time, for a person waiting at a terminal."""
REPORT_AFTER = 1.0
"""Seconds a step runs before it is reported (and then about once a second)."""


def migrate(
    conn: sqlite3.Connection, steps: Sequence[tuple[str, str]] = MIGRATIONS, report: Report | None = None
) -> list[str]:
    """Apply every step not yet recorded; returns the names applied. `NewerSchema` when the database
    records a step that `steps` lacks (a newer wa-inbox migrated it), before anything is written.

    `steps` is for tests, which build a database as an older version left it with `MIGRATIONS[:k]`.
    With `report`, a step that takes longer than REPORT_AFTER says so while it runs, and when done.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {name for (name,) in conn.execute("SELECT name FROM migrations")}
    _refuse_unknown(conn, done, steps)
    applied = []
    for name, script in steps:
        if name not in done:
            with _reporting(conn, name, report):
                _apply(conn, name, script)
            applied.append(name)
    return applied


def pending(conn: sqlite3.Connection, steps: Sequence[tuple[str, str]] = MIGRATIONS) -> list[str]:
    """The steps this database has not had yet (all of them for a new one); `NewerSchema` as `migrate`."""
    recorded = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'")
    done = {name for (name,) in conn.execute("SELECT name FROM migrations")} if recorded.fetchone() else set()
    _refuse_unknown(conn, done, steps)
    return [name for name, _ in steps if name not in done]


def _refuse_unknown(conn: sqlite3.Connection, done: set[str], steps: Sequence[tuple[str, str]]) -> None:
    """A recorded step this release does not know means a newer release's schema: never use it
    (steps are only ever added, never renamed, so an unknown name can come from nowhere else). The
    newest unknown step is named: the release that added it is the one to run."""
    unknown = sorted(done - {name for name, _ in steps})
    if unknown:
        databases = {name: file for _, name, file in conn.execute("PRAGMA database_list")}
        raise NewerSchema.at(databases.get("main") or "(in memory)", unknown[-1])


@contextlib.contextmanager
def _reporting(conn: sqlite3.Connection, name: str, report: Report | None) -> Iterator[None]:
    """SQLite calls back every few thousand instructions while the step runs; a line a second."""
    if report is None:
        yield
        return
    started = last = time.monotonic()

    def progress() -> int:
        nonlocal last
        now = time.monotonic()
        if now - started >= REPORT_AFTER and now - last >= 1.0:
            last = now
            report(
                f"Upgrading the database ({name}): {now - started:.0f} s so far, nothing is lost if stopped."
            )
        return 0

    conn.set_progress_handler(progress, 100_000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)
    took = time.monotonic() - started
    if took >= REPORT_AFTER:
        report(f"Upgraded the database ({name}) in {took:.1f} s.")


def _apply(conn: sqlite3.Connection, name: str, script: str) -> None:
    """Run one step and record it atomically: a crash leaves the step either whole or absent."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO migrations (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
            (name,),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a script into whole statements (a trigger's body holds semicolons of its own)."""
    statements, pending = [], ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending)
            pending = ""
    return statements
