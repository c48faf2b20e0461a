"""The SQLite store: WAL, `synchronous=FULL`, one group-committing writer, aiosqlite for reads."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from wa_inbox.domain.models import (
    Contact,
    Conversation,
    InboundMessage,
    Message,
    StatusUpdate,
    Verdict,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.store import reads, writes
from wa_inbox.store.codec import to_json
from wa_inbox.store.migrations import migrate
from wa_inbox.store.reads import MessageQuery
from wa_inbox.store.writer import BatchWriter

Clock = Callable[[], datetime]
HEALTH_DEADLINE_SECONDS = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def _connect_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
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
        await store._db.execute("PRAGMA busy_timeout = 5000")
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
        """Store a customer's message durably; False when it was a retry. STOP/START apply once."""
        now = self._clock()
        raw_form = to_json(record.form) or "{}"

        def write(conn: sqlite3.Connection, seq: int) -> bool:
            if writes.insert_inbound(conn, msg, raw_form, now, seq) is None:
                writes.log_webhook(conn, record, Verdict.DUPLICATE)
                return False
            writes.log_webhook(conn, record)
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
                        to_addr=msg.from_addr,
                        body=confirmation,
                        idempotency_key=f"opt-confirmation:{msg.sid}",
                        now=now,
                        seq=seq,
                    )
            return True

        return await self._writer.submit(write)

    async def ingest_status(self, update: StatusUpdate, record: WebhookRecord) -> bool:
        """Store a status callback durably; False when this (sid, status) was seen before."""
        now = self._clock()

        def write(conn: sqlite3.Connection, seq: int) -> bool:
            new = writes.apply_status(conn, update, now, seq)
            writes.log_webhook(conn, record, None if new else Verdict.DUPLICATE)
            return new

        return await self._writer.submit(write)

    async def log_rejection(self, record: WebhookRecord) -> None:
        await self._writer.submit(lambda conn, seq: writes.log_webhook(conn, record))

    async def check_writable(self) -> bool:
        """A real durable commit within two seconds: the honest answer to "can we accept webhooks now?"."""
        commit = asyncio.ensure_future(self._writer.submit(lambda conn, seq: None))
        try:
            async with asyncio.timeout(HEALTH_DEADLINE_SECONDS):
                await asyncio.shield(commit)
        except (sqlite3.Error, TimeoutError):
            return False
        return True

    # --- reads ----------------------------------------------------------------------------------

    async def list_messages(self, query: MessageQuery) -> list[Message]:
        return await reads.list_messages(self._db, query)

    async def get_message(self, sid: str) -> Message | None:
        return await reads.get_message(self._db, sid)

    async def get_contact(self, address: str) -> Contact | None:
        return await reads.get_contact(self._db, address)

    async def list_conversations(self, limit: int | None = None) -> list[Conversation]:
        return await reads.list_conversations(self._db, limit)

    async def count_rejected_webhooks(self) -> int:
        return await reads.count_rejected_webhooks(self._db)
