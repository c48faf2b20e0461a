"""The SQLite store: WAL, `synchronous=FULL`, one group-committing writer, aiosqlite for reads."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from wa_inbox.domain.models import (
    Contact,
    Conversation,
    HostedFile,
    InboundMessage,
    MediaDownload,
    Message,
    OutboundJob,
    StatusUpdate,
    Verdict,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store import reads, templates, writes
from wa_inbox.store.codec import ts
from wa_inbox.store.migrations import migrate
from wa_inbox.store.reads import MessageQuery
from wa_inbox.store.writer import BUSY_TIMEOUT_MS, BatchWriter

Clock = Callable[[], datetime]
HEALTH_DEADLINE_SECONDS = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def _connect_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Statement and savepoint journals in memory: on disk, every batch opened, wrote and unlinked a
    # temporary file, on the event loop. They only ever hold the pages one batch changes.
    conn.execute("PRAGMA temp_store = MEMORY")
    migrate(conn)
    return conn


class SqliteStore:
    """Everything wa-inbox keeps, in one SQLite file shared by `serve` and every attached TUI."""

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = path
        self._clock = clock
        self._writer = BatchWriter(lambda: _connect_writer(path))
        self._db: aiosqlite.Connection

    @classmethod
    async def open(cls, path: Path, clock: Clock = utc_now) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, clock)
        await store._writer.start()
        store._db = await aiosqlite.connect(path)
        await store._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await store._db.execute("PRAGMA query_only = 1")
        return store

    async def close(self) -> None:
        await self._db.close()
        await self._writer.stop()

    @property
    def committed_seq(self) -> int:
        return self._writer.committed_seq

    def on_commit(self, listener: Callable[[int], None]) -> None:
        self._writer.on_commit(listener)

    # --- webhooks -------------------------------------------------------------------------------

    async def ingest_inbound(
        self,
        msg: InboundMessage,
        record: WebhookRecord,
        opt_action: OptAction | None = None,
        confirmation: str | None = None,
    ) -> bool:
        """Store a customer's message durably; False when it was a retry. STOP/START apply once.

        The window is measured from `record.received_at`: when the webhook arrived, not when it was written.
        """
        now = ts(record.received_at)

        def write(conn: sqlite3.Connection, seq: int) -> bool:
            if writes.insert_inbound(conn, msg, record.body, now, seq) is None:
                writes.log_webhook(conn, record, now, Verdict.DUPLICATE)
                return False
            writes.log_webhook(conn, record, now)
            if opt_action is not None:
                changed = writes.set_opt_state(
                    conn,
                    msg.from_addr,
                    opt_action,
                    f"keyword {msg.body.strip()!r}",
                    msg.sid,
                    now,
                    seq,
                )
                if changed and confirmation:
                    writes.queue_outbound(
                        conn,
                        Draft(to=msg.from_addr, body=confirmation),
                        idempotency_key=f"opt-confirmation:{msg.sid}",
                        now=now,
                        seq=seq,
                        opt_confirmation=opt_action is OptAction.STOP,
                    )
            return True

        return await self._writer.submit(write)

    async def ingest_status(self, update: StatusUpdate, record: WebhookRecord) -> bool:
        """Store a status callback durably; False when this (sid, status) was seen before."""
        now = ts(record.received_at)

        def write(conn: sqlite3.Connection, seq: int) -> bool:
            new = writes.apply_status(conn, update, now, seq)
            writes.log_webhook(conn, record, now, None if new else Verdict.DUPLICATE)
            return new

        return await self._writer.submit(write)

    async def log_rejection(self, record: WebhookRecord) -> None:
        received_at = ts(record.received_at)
        await self._writer.submit(lambda conn, seq: writes.log_webhook(conn, record, received_at))

    async def check_writable(self) -> bool:
        """A real durable commit within two seconds: the honest answer to "can we accept webhooks now?"."""
        commit = asyncio.ensure_future(self._writer.submit(lambda conn, seq: None))
        try:
            async with asyncio.timeout(HEALTH_DEADLINE_SECONDS):
                await asyncio.shield(commit)
        except (sqlite3.Error, TimeoutError):
            return False
        return True

    # --- outbox ---------------------------------------------------------------------------------

    async def queue_draft(self, draft: Draft, idempotency_key: str) -> int | None:
        """Queue a message for the sender; None when this key was queued before (a repeated submit)."""
        now = ts(self._clock())
        return await self._writer.submit(
            lambda conn, seq: writes.queue_outbound(
                conn, draft, idempotency_key=idempotency_key, now=now, seq=seq
            )
        )

    async def claim_unsent(self, limit: int, message_id: int | None = None) -> list[OutboundJob]:
        """Mark up to `limit` pending messages (only `message_id`, if given) as being sent, durably."""
        now = ts(self._clock())
        ids = await self._writer.submit(
            lambda conn, seq: writes.claim_unsent(conn, limit, now, seq, message_id)
        )
        if not ids:
            return []
        return await reads.outbound_jobs(self._db, f"id IN ({','.join('?' * len(ids))})", ids)

    async def list_sending(self) -> list[OutboundJob]:
        """Messages whose request may have reached Twilio without our hearing back (after a crash)."""
        return await reads.outbound_jobs(self._db, "status = 'sending'", ())

    async def record_accepted(
        self, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
    ) -> None:
        now = ts(self._clock())
        await self._writer.submit(
            lambda conn, seq: writes.record_accepted(
                conn,
                message_id,
                sid=sid,
                status=status,
                from_addr=from_addr,
                messaging_service_sid=messaging_service_sid,
                now=now,
                seq=seq,
            )
        )

    async def record_failed(self, message_id: int, error_code: int | None, error_message: str) -> None:
        now = ts(self._clock())
        await self._writer.submit(
            lambda conn, seq: writes.record_failed(
                conn, message_id, error_code=error_code, error_message=error_message, now=now, seq=seq
            )
        )

    async def set_opt_state(self, address: str, action: OptAction, source: str) -> bool:
        """Opt a contact out or in by hand or from a Twilio error, with an audit row; False if unchanged."""
        now = ts(self._clock())

        def write(conn: sqlite3.Connection, seq: int) -> bool:
            writes.ensure_contact(conn, address, now)
            return writes.set_opt_state(conn, address, action, source, None, now, seq)

        return await self._writer.submit(write)

    async def mark_read(self, address: str) -> int:
        now = ts(self._clock())
        return await self._writer.submit(lambda conn, seq: writes.mark_read(conn, address, now, seq))

    async def claimed_sids(self, sids: Sequence[str]) -> set[str]:
        return await reads.claimed_sids(self._db, sids) if sids else set()

    # --- media ----------------------------------------------------------------------------------

    async def add_hosted_file(self, hosted: HostedFile) -> None:
        """Record a file copied for Twilio to fetch; the receiver serves only files recorded here."""
        now = ts(self._clock())
        await self._writer.submit(lambda conn, seq: writes.add_hosted_file(conn, hosted, now))

    async def get_hosted_file(self, file_id: str) -> HostedFile | None:
        return await reads.get_hosted_file(self._db, file_id)

    async def claim_media_downloads(self, limit: int, lease: timedelta) -> list[MediaDownload]:
        """Up to `limit` inbound media items due for a download try, leased to the caller for `lease`."""
        now = self._clock()
        ids = await self._writer.submit(
            lambda conn, seq: writes.claim_media(conn, limit, ts(now), ts(now + lease))
        )
        return await reads.media_downloads(self._db, ids) if ids else []

    async def record_media_downloaded(self, media_id: int, local_path: str, size_bytes: int) -> None:
        now = ts(self._clock())
        await self._writer.submit(
            lambda conn, seq: writes.record_media_downloaded(conn, media_id, local_path, size_bytes, now, seq)
        )

    async def record_media_failed(self, media_id: int, error: str, retry_after: timedelta | None) -> None:
        """A failed try: retried after `retry_after`, or never again when it is None."""
        retry_at = ts(self._clock() + retry_after) if retry_after is not None else None
        await self._writer.submit(
            lambda conn, seq: writes.record_media_failed(conn, media_id, error, retry_at, seq)
        )

    # --- templates ------------------------------------------------------------------------------

    async def replace_templates(self, synced: Sequence[TemplateInfo]) -> None:
        """The account's templates as just read from Twilio, replacing the old set in one transaction."""
        now = ts(self._clock())
        await self._writer.submit(lambda conn, seq: templates.replace_all(conn, synced, now))

    async def list_templates(self) -> list[TemplateInfo]:
        return await templates.list_all(self._db)

    async def template_send_errors(self, after_seq: int, upto_seq: int) -> list[int]:
        return await templates.send_errors(self._db, after_seq, upto_seq)

    # --- reads ----------------------------------------------------------------------------------

    async def list_messages(self, query: MessageQuery) -> list[Message]:
        return await reads.list_messages(self._db, query)

    async def get_message(self, sid: str) -> Message | None:
        return await reads.get_message(self._db, sid)

    async def get_message_by_id(self, message_id: int) -> Message | None:
        return await reads.get_message_by_id(self._db, message_id)

    async def messages_changed_since(self, seq: int, limit: int = 500) -> list[Message]:
        return await reads.messages_changed_since(self._db, seq, limit)

    async def thread_page(self, address: str, before_id: int | None = None, limit: int = 50) -> list[Message]:
        return await reads.thread_page(self._db, address, before_id, limit)

    async def search(self, text: str, limit: int = 100) -> list[Message]:
        return await reads.search(self._db, text, limit)

    async def changes_since(self, since: int) -> reads.Changes:
        return await reads.changes_since(self._db, since)

    async def data_version(self) -> int:
        return await reads.data_version(self._db)

    async def get_contact(self, address: str) -> Contact | None:
        return await reads.get_contact(self._db, address)

    async def list_conversations(
        self, limit: int | None = None, addresses: Sequence[str] | None = None
    ) -> list[Conversation]:
        return await reads.list_conversations(self._db, limit, addresses)

    async def last_webhook_at(self) -> datetime | None:
        return await reads.last_webhook_at(self._db)

    async def rejected_webhooks(self, limit: int = 200) -> list[WebhookRecord]:
        return await reads.rejected_webhooks(self._db, limit)

    async def count_rejected_webhooks(self) -> int:
        return await reads.count_rejected_webhooks(self._db)
