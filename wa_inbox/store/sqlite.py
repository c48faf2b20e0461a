"""The SQLite store: WAL, `synchronous=FULL`, one group-committing writer process, aiosqlite for reads."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from wa_inbox.domain.clock import Clock, utc_now
from wa_inbox.domain.events import Event, EventBacklog, PendingEvent
from wa_inbox.domain.lease import Lease
from wa_inbox.domain.models import (
    Contact,
    Conversation,
    HostedFile,
    InboundMessage,
    MediaDownload,
    MediaFile,
    MediaFileKind,
    Message,
    OutboundJob,
    StatusUpdate,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import (
    PRESENCE_TTL,
    Agent,
    ConversationStatus,
    OptEvent,
    Presence,
    SavedReply,
    ThreadEvent,
)
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store import (
    commands,
    committer,
    events,
    files,
    migrations,
    reads,
    team_reads,
    team_writes,
    templates,
    webhook_log,
    writes,
)
from wa_inbox.store import lease as sender_lease
from wa_inbox.store.codec import ts
from wa_inbox.store.committer import BUSY_TIMEOUT_MS
from wa_inbox.store.errors import StoreConflict, StoreError
from wa_inbox.store.migrations import Report
from wa_inbox.store.types import (
    Changes,
    ConversationCounts,
    ConversationFilter,
    MessageQuery,
    OutboxDepth,
    StoreStats,
)
from wa_inbox.store.writer import BatchWriter

HEALTH_DEADLINE_SECONDS = 2.0

# `utc_now` is re-exported for wa_inbox.tui.app, until it imports the domain's.
__all__ = ["Clock", "SqliteStore", "utc_now"]


T = TypeVar("T")
OTHER_WRITERS_POLL_SECONDS = 0.15
"""How often the change feed looks for commits by other processes (an attached inbox's only news)."""


class SqliteStore:
    """Everything wa-inbox keeps, in one SQLite file shared by `serve` and every attached TUI."""

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = path
        self._clock = clock
        self._writer = BatchWriter(path)
        self._db: aiosqlite.Connection

    @classmethod
    async def open(cls, path: Path, clock: Clock = utc_now, read_only: bool = False) -> SqliteStore:
        """`files.UnusableDatabase`, one sentence, for a path that cannot hold the database.

        `read_only` starts no writer process (about a tenth of a second a command) when the schema
        is already the newest; an older one is migrated first, which needs the writer after all."""
        files.prepare(path)  # created 0600 here, before SQLite makes it 0644
        store = cls(path, clock)
        if read_only and _schema_is_current(path):
            await store._connect()
            return store
        try:
            await store._writer.start()
        except sqlite3.OperationalError as error:  # locked, out of space, ...: the file may be fine
            raise files.UnusableDatabase(f"The database {path} cannot be opened ({error}).") from None
        except sqlite3.DatabaseError as error:
            raise files.UnusableDatabase(
                f"{path} is not a wa-inbox database ({error}): point WA_INBOX_DB (or --db) at the file "
                "`wa-inbox serve` writes."
            ) from None
        await store._connect()
        return store

    async def _connect(self) -> None:
        """The reading connection; every write goes through the writer process instead."""
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await self._db.execute("PRAGMA query_only = 1")

    async def close(self) -> None:
        await self._db.close()
        await self._writer.stop()

    @property
    def committed_seq(self) -> int:
        return self._writer.committed_seq

    def on_commit(self, listener: Callable[[int], None]) -> None:
        self._writer.on_commit(listener)

    def on_batch(self, listener: Callable[[int], None]) -> None:
        self._writer.on_batch(listener)

    # --- webhooks -------------------------------------------------------------------------------

    async def ingest_inbound(
        self,
        msg: InboundMessage,
        record: WebhookRecord,
        opt_action: OptAction | None = None,
        confirmation: str | None = None,
        event: Event | None = None,
    ) -> bool:
        """Store a customer's message durably; False when it was a retry. STOP/START apply once.

        The window is measured from `record.received_at`: when the webhook arrived, not when it was written.
        """
        return await self._writer.submit(
            commands.ingest_inbound,
            ts(record.received_at),
            msg,
            commands.request(record),
            opt_action,
            confirmation,
            events.as_row(event),
        )

    async def ingest_status(
        self, update: StatusUpdate, record: WebhookRecord, event: Event | None = None
    ) -> bool:
        """Store a status callback durably; False when this (sid, status) was seen before."""
        return await self._writer.submit(
            commands.ingest_status,
            ts(record.received_at),
            commands.status_fields(update),
            commands.request(record),
            events.as_row(event),
        )

    async def log_rejection(self, record: WebhookRecord) -> None:
        """Keep a rejected request in the raw log, as the receiver cut it, with the sizes of what came."""
        await self._writer.submit(
            webhook_log.log_rejection,
            ts(record.received_at),
            commands.request(record),
            record.body_bytes,
            record.header_bytes,
        )

    async def prune_webhook_log(self, before: datetime) -> int:
        """Delete the raw log's rows that arrived before `before`, oldest first, a batch per commit.

        The dedupe keys (messages' SIDs, status events) are kept: only the raw requests go.
        """
        removed, cutoff = 0, ts(before)
        while True:
            now = ts(self._clock())
            batch = await self._writer.submit(webhook_log.prune, now, cutoff, webhook_log.PRUNE_BATCH)
            removed += batch
            if batch < webhook_log.PRUNE_BATCH:
                return removed

    # --- the event outbox -----------------------------------------------------------------------

    async def pending_events(self, limit: int) -> list[PendingEvent]:
        return await events.pending(self._db, limit)

    async def mark_events_published(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        return await self._writer.submit(events.mark_events_published, ts(self._clock()), list(ids))

    async def record_event_failure(self, ids: Sequence[int], error: str) -> None:
        if ids:
            await self._writer.submit(events.record_event_failure, ts(self._clock()), list(ids), error)

    async def event_backlog(self) -> EventBacklog:
        return await events.backlog(self._db)

    async def prune_events(self, before: datetime) -> int:
        """Published events before `before`, oldest first, a batch per commit."""
        removed, cutoff = 0, ts(before)
        while True:
            now = ts(self._clock())
            batch = await self._writer.submit(events.prune_events, now, cutoff, events.PRUNE_BATCH)
            removed += batch
            if batch < events.PRUNE_BATCH:
                return removed

    async def check_writable(self) -> bool:
        """A real durable commit within two seconds: the honest answer to "can we accept webhooks now?"."""
        commit = asyncio.ensure_future(self._writer.submit(commands.nothing, ts(self._clock())))
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
        return await self._writer.submit(writes.queue_outbound, now, draft, idempotency_key)

    async def claim_unsent(
        self, limit: int, message_id: int | None = None, lease: Lease | None = None
    ) -> list[OutboundJob]:
        """Mark up to `limit` pending messages (only `message_id`, if given) as being sent, durably;
        under `lease`, only while it is the live sender lease, each claim recording it."""
        now = ts(self._clock())
        fence = (lease.owner, lease.term) if lease is not None else None
        ids = await self._writer.submit(writes.claim_unsent, now, limit, message_id, fence)
        return await self._jobs(ids)

    async def take_over_sending(self, lease: Lease) -> list[OutboundJob]:
        """The messages left `sending` under an ended sender lease, claimed anew under `lease`."""
        now = ts(self._clock())
        ids = await self._writer.submit(sender_lease.take_over_sending, now, lease.owner, lease.term)
        return await self._jobs(ids)

    async def _jobs(self, ids: Sequence[int]) -> list[OutboundJob]:
        if not ids:
            return []
        return await reads.outbound_jobs(self._db, f"id IN ({','.join('?' * len(ids))})", ids)

    async def acquire_sender_lease(self, owner: str, duration: timedelta) -> Lease:
        now = self._clock()
        row = await self._writer.submit(sender_lease.acquire, ts(now), owner, ts(now + duration))
        return sender_lease.to_lease(row)

    async def release_sender_lease(self, owner: str) -> bool:
        return await self._writer.submit(sender_lease.release, ts(self._clock()), owner)

    async def sender_lease(self) -> Lease | None:
        return await sender_lease.live(self._db, ts(self._clock()))

    async def outbox_depth(self) -> OutboxDepth:
        return await reads.outbox_depth(self._db)

    async def record_accepted(
        self, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
    ) -> None:
        now = ts(self._clock())
        await self._writer.submit(
            writes.record_accepted, now, message_id, sid, status, from_addr, messaging_service_sid
        )

    async def record_failed(self, message_id: int, error_code: int | None, error_message: str) -> None:
        now = ts(self._clock())
        await self._writer.submit(writes.record_failed, now, message_id, error_code, error_message)

    async def set_opt_state(self, address: str, action: OptAction, source: str) -> bool:
        """Opt a contact out or in by hand or from a Twilio error, with an audit row; False if unchanged."""
        return await self._writer.submit(writes.set_opt_state, ts(self._clock()), address, action, source)

    async def mark_read(self, address: str, agent: str | None = None) -> int:
        return await self._writer.submit(writes.mark_read, ts(self._clock()), address, agent)

    async def claimed_sids(self, sids: Sequence[str]) -> set[str]:
        return await reads.claimed_sids(self._db, sids) if sids else set()

    # --- drafts ---------------------------------------------------------------------------------

    async def save_draft(self, address: str, body: str) -> None:
        await self._writer.submit(writes.save_draft, ts(self._clock()), address, body)

    async def get_draft(self, address: str) -> str:
        return await reads.get_draft(self._db, address)

    async def count_drafts(self) -> int:
        return await reads.count_drafts(self._db)

    # --- media ----------------------------------------------------------------------------------

    async def add_hosted_file(self, hosted: HostedFile) -> None:
        """Record a file copied for Twilio to fetch; the receiver serves only files recorded here."""
        await self._writer.submit(writes.add_hosted_file, ts(self._clock()), hosted)

    async def get_hosted_file(self, file_id: str) -> HostedFile | None:
        return await reads.get_hosted_file(self._db, file_id)

    async def claim_media_downloads(self, limit: int, lease: timedelta) -> list[MediaDownload]:
        """Up to `limit` inbound media items due for a download try, leased to the caller for `lease`."""
        now = self._clock()
        ids = await self._writer.submit(writes.claim_media, ts(now), limit, ts(now + lease))
        return await reads.media_downloads(self._db, ids) if ids else []

    async def record_media_downloaded(self, media_id: int, local_path: str, size_bytes: int) -> None:
        await self._writer.submit(
            writes.record_media_downloaded, ts(self._clock()), media_id, local_path, size_bytes
        )

    async def record_media_failed(self, media_id: int, error: str, retry_after: timedelta | None) -> None:
        """A failed try: retried after `retry_after`, or never again when it is None."""
        now = self._clock()
        retry_at = ts(now + retry_after) if retry_after is not None else None
        await self._writer.submit(writes.record_media_failed, ts(now), media_id, error, retry_at)

    async def expired_media(
        self, before: datetime, limit: int, after: MediaFile | None = None
    ) -> list[MediaFile]:
        return await reads.expired_media(self._db, ts(before), limit, after)

    async def record_media_removed(self, files: Sequence[MediaFile], reason: str) -> int:
        """Record each of `files` as removed by retention, in one commit; how many were not before."""
        inbound = [int(f.key) for f in files if f.kind is MediaFileKind.INBOUND]
        hosted = [f.key for f in files if f.kind is MediaFileKind.HOSTED]
        if not inbound and not hosted:
            return 0
        return await self._writer.submit(
            writes.record_media_removed, ts(self._clock()), inbound, hosted, reason
        )

    # --- templates ------------------------------------------------------------------------------

    async def replace_templates(self, synced: Sequence[TemplateInfo]) -> None:
        """The account's templates as just read from Twilio, replacing the old set in one transaction."""
        await self._writer.submit(templates.replace_all, ts(self._clock()), list(synced))

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

    async def search(self, text: str, limit: int = 50, offset: int = 0) -> list[Message]:
        return await reads.search(self._db, text, limit, offset)

    async def find_contacts(self, text: str, limit: int = 20) -> list[Contact]:
        return await reads.find_contacts(self._db, text, limit)

    async def change_number(self) -> int:
        return await reads.change_number(self._db)

    async def changes_since(self, since: int) -> Changes:
        return await reads.changes_since(self._db, since, ts(self._clock()))

    async def data_version(self) -> int:
        return await reads.data_version(self._db)

    async def changes(self) -> AsyncIterator[None]:
        """This process's commits at once (the writer says so); other processes' within a poll of
        `PRAGMA data_version`, which changes whenever another connection commits."""
        committed = asyncio.Event()
        self._writer.on_commit(lambda seq: committed.set())
        seen = await self.data_version()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(committed.wait(), OTHER_WRITERS_POLL_SECONDS)
            version = await self.data_version()  # its errors are StoreErrors, like every member's
            if committed.is_set() or version != seen:
                committed.clear()
                seen = version
                yield

    async def get_contact(self, address: str) -> Contact | None:
        return await reads.get_contact(self._db, address)

    async def list_conversations(
        self,
        limit: int | None = None,
        addresses: Sequence[str] | None = None,
        after: Conversation | None = None,
        where: ConversationFilter | None = None,
        agent: str | None = None,
    ) -> list[Conversation]:
        now = ts(self._clock())
        return await reads.list_conversations(self._db, now, limit, addresses, after, where, agent)

    async def conversation_counts(
        self, where: ConversationFilter | None = None, agent: str | None = None
    ) -> ConversationCounts:
        return await reads.conversation_counts(self._db, ts(self._clock()), where, agent)

    # --- the team -------------------------------------------------------------------------------

    async def record_agent(self, name: str) -> Agent:
        row = await self._writer.submit(team_writes.record_agent, ts(self._clock()), name)
        return team_reads.to_agent(row)

    async def list_agents(self) -> list[Agent]:
        return await team_reads.list_agents(self._db)

    async def assign(self, address: str, assignee: str | None, by: str) -> bool:
        return await self._writer.submit(team_writes.assign, ts(self._clock()), address, assignee, by)

    async def set_conversation_status(
        self, address: str, status: str, by: str, until: datetime | None = None
    ) -> bool:
        """`ValueError` for a status `domain.team.ConversationStatus` does not name, or a snooze
        without `until`; `until` is ignored for any other status."""
        status = ConversationStatus(status)
        if status is ConversationStatus.SNOOZED and until is None:
            raise ValueError("A snooze needs the time it ends (`until`).")
        snooze = ts(until) if status is ConversationStatus.SNOOZED and until is not None else None
        return await self._writer.submit(
            team_writes.set_conversation_status, ts(self._clock()), address, str(status), by, snooze
        )

    async def add_note(self, address: str, author: str, body: str) -> ThreadEvent:
        event_id = await self._writer.submit(team_writes.add_note, ts(self._clock()), address, author, body)
        return await team_reads.event_by_id(self._db, event_id)

    async def thread_events(self, address: str, limit: int = 500) -> list[ThreadEvent]:
        return await team_reads.thread_events(self._db, address, limit)

    async def set_label(self, address: str, label: str, present: bool, by: str) -> bool:
        return await self._writer.submit(
            team_writes.set_label, ts(self._clock()), address, label, present, by
        )

    async def list_labels(self) -> list[str]:
        return await team_reads.list_labels(self._db)

    async def save_reply(self, name: str, body: str, by: str) -> None:
        await self._writer.submit(team_writes.save_reply, ts(self._clock()), name, body, by)

    async def delete_reply(self, name: str) -> bool:
        return await self._writer.submit(team_writes.delete_reply, ts(self._clock()), name)

    async def list_replies(self) -> list[SavedReply]:
        return await team_reads.list_replies(self._db)

    async def touch_presence(self, agent: str, address: str, typing: bool = False) -> None:
        now = self._clock()
        until = ts(now + PRESENCE_TTL)
        await self._writer.submit(team_writes.touch_presence, ts(now), agent, address, typing, until)

    async def leave_presence(self, agent: str) -> None:
        await self._writer.submit(team_writes.leave_presence, ts(self._clock()), agent)

    async def presence(self, address: str) -> list[Presence]:
        return await team_reads.presence(self._db, address, ts(self._clock()))

    async def opt_history(self, address: str) -> list[OptEvent]:
        return await team_reads.opt_history(self._db, address)

    async def last_webhook_at(self) -> datetime | None:
        return await reads.last_webhook_at(self._db)

    async def rejected_webhooks(self, limit: int = 200) -> list[WebhookRecord]:
        return await reads.rejected_webhooks(self._db, limit)

    async def count_rejected_webhooks(self) -> int:
        return await reads.count_rejected_webhooks(self._db)

    # --- the database's growth -----------------------------------------------------------------

    async def stats(self) -> StoreStats:
        rows = await reads.row_counts(self._db)
        return StoreStats(
            rows=rows,
            bytes_on_disk=_size(self.path),
            log_bytes=_size(_wal(self.path)),
            media_bytes=await reads.media_bytes(self._db),
            free_pages=await reads.pragma(self._db, "freelist_count"),
            page_size=await reads.pragma(self._db, "page_size"),
            vacuums_online=await reads.pragma(self._db, "auto_vacuum") == writes.INCREMENTAL_VACUUM,
        )

    async def vacuum_step(self, pages: int) -> int:
        """A write like any other (webhooks may share its commit); the file shrinks as the log is
        checkpointed, which the writer does after each commit that left the log long. At 0, one more
        checkpoint empties the log, grown by the pages moved."""
        left = await self._writer.submit(writes.vacuum_pages, ts(self._clock()), pages)
        if left == 0:
            await asyncio.to_thread(_checkpoint, self.path)
        return left

    async def vacuum_full(self) -> None:
        """SQLite's VACUUM, which no transaction may surround: on a connection of its own, not the
        writer's (whose every write is a transaction), while the writer waits idle."""
        if self._writer.process_id is None:
            raise StoreError("This store was opened read-only: it cannot vacuum.")
        await asyncio.to_thread(_vacuum, self.path)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _checkpoint(path: Path) -> None:
    """Copy the log into the database and empty it. A reader still on an old snapshot (after the
    busy timeout) leaves the log as long as it is: the next checkpoint empties it."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _vacuum(path: Path) -> None:
    """Rewrite the file, incremental from now on (the one way to switch a database made without)."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def upgrade_file(path: Path, report: Report) -> list[str]:
    """`upgrade_in_place` for an SQLite file: the migrations the writer would run, run here."""
    todo = pending_in_file(path)
    if todo:
        files.check(path)
        try:
            with contextlib.closing(committer.connect(path, report)):
                pass
        except sqlite3.DatabaseError as error:
            raise files.UnusableDatabase(f"The database {path} cannot be upgraded ({error}).") from None
    return todo


def _schema_is_current(path: Path) -> bool:
    """Every migration step is recorded in the database at `path` (read without writing anything)."""
    return not pending_in_file(path)


def pending_in_file(path: Path) -> list[str]:
    """The steps the database at `path` lacks, read without writing; all of them for a new or foreign
    file (the writer creates or judges it)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as conn:
            return migrations.pending(conn)
    except sqlite3.Error:
        return [name for name, _ in migrations.MIGRATIONS]


def _translate_errors(store_class: type) -> None:
    """Every public coroutine of `store_class` raises `StoreError`s, never sqlite3's: callers of the
    `Store` protocol must not depend on the backend behind it."""
    for name, member in list(vars(store_class).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(store_class, name, _translating(member))


def _translating(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def translated(*args: Any, **kwargs: Any) -> T:
        try:
            return await method(*args, **kwargs)
        except sqlite3.IntegrityError as error:
            raise StoreConflict(str(error)) from error
        except sqlite3.Error as error:
            raise StoreError(str(error)) from error

    return translated


_translate_errors(SqliteStore)
