"""The PostgreSQL store: a connection pool, one transaction per write, the change feed by transaction id.

Several processes on several hosts share one database: `serve` replicas behind a load balancer and
agents' inboxes attached from their own machines. Every promise of the `Store` protocol holds across
them, by the database's own means: unique keys dedupe webhook retries, rank-guarded updates keep ticks
monotonic, `FOR UPDATE SKIP LOCKED` hands each pending message to one claimer, the sender lease row
elects one sender, and the feed (`feed.py`) never skips a commit that finished out of order.

SQL lives in this package's modules, one per area, each a set of plain functions: writes take a
`tx.Tx` (`tx.run` gives them one transaction), reads take a connection.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from wa_inbox.dburl import DatabaseUrl
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
    Message,
    OutboundJob,
    StatusUpdate,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import Agent, ConversationStatus, OptEvent, Presence, SavedReply, ThreadEvent
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store.errors import StoreConflict, StoreError
from wa_inbox.store.postgres import (
    connection,
    events,
    feed,
    lease,
    media,
    migrations,
    outbox,
    reads,
    stats,
    team,
    templates,
    webhooks,
)
from wa_inbox.store.postgres.tx import Tx, run
from wa_inbox.store.types import (
    Changes,
    ConversationCounts,
    ConversationFilter,
    MessageQuery,
    OutboxDepth,
    StoreStats,
)

P = ParamSpec("P")
T = TypeVar("T")

HEALTH_DEADLINE_SECONDS = 2.0


class PostgresStore:
    """Everything wa-inbox keeps, in one PostgreSQL database shared by every replica and inbox."""

    def __init__(
        self, url: DatabaseUrl, pool: AsyncConnectionPool[Any], clock: Clock, read_only: bool
    ) -> None:
        self.url = url
        """The database (`str()` of it hides the password)."""
        self._pool = pool
        self._clock = clock
        self._read_only = read_only
        self._notifications = feed.Notifications(url)
        self._committed_seq = 0
        self._batch_listeners: list[Callable[[int], None]] = []

    @classmethod
    async def open(cls, url: DatabaseUrl, clock: Clock = utc_now, read_only: bool = False) -> PostgresStore:
        """Connect, migrate when needed (`read_only` or not: a reader of an older schema would misread
        it), and return the store. `StoreError`, one sentence, when the server cannot be reached or the
        database was migrated by a newer wa-inbox."""
        pool = await connection.open_pool(url)
        try:
            async with pool.connection() as conn:
                await migrations.migrate(conn, str(url))
        except BaseException:
            await pool.close()
            raise
        return cls(url, pool, clock, read_only)

    async def close(self) -> None:
        await self._notifications.close()
        await self._pool.close()

    # --- plumbing -------------------------------------------------------------------------------

    async def _write(
        self, step: Callable[Concatenate[Tx, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self._read_only:
            raise StoreError("This store was opened read-only: it cannot write.")
        result = await run(self._pool, self._clock(), step, *args, **kwargs)
        self._committed_seq += 1
        for listener in self._batch_listeners:
            listener(1)
        return result

    async def _read(
        self,
        query: Callable[Concatenate[AsyncConnection[Any], P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        async with self._pool.connection() as conn:
            return await query(conn, *args, **kwargs)

    @property
    def committed_seq(self) -> int:
        """How many writes this store has committed: it grows with each (on PostgreSQL the change feed's
        position is a transaction id: `change_number()`)."""
        return self._committed_seq

    def on_commit(self, listener: Callable[[int], None]) -> None:
        """`listener(change number)` at each notified commit, of this process or any other."""
        self._notifications.add(listener)

    def on_batch(self, listener: Callable[[int], None]) -> None:
        """`listener(1)` after each commit of this store's writes: on PostgreSQL every write is its own
        transaction (the server groups their flushes, not the store)."""
        self._batch_listeners.append(listener)

    # --- webhooks -------------------------------------------------------------------------------

    async def ingest_inbound(
        self,
        msg: InboundMessage,
        record: WebhookRecord,
        opt_action: OptAction | None = None,
        confirmation: str | None = None,
        event: Event | None = None,
    ) -> bool:
        return await self._write(webhooks.ingest_inbound, msg, record, opt_action, confirmation, event)

    async def ingest_status(
        self, update: StatusUpdate, record: WebhookRecord, event: Event | None = None
    ) -> bool:
        return await self._write(webhooks.ingest_status, update, record, event)

    async def log_rejection(self, record: WebhookRecord) -> None:
        await self._write(webhooks.log_rejection, record)

    async def prune_webhook_log(self, before: datetime) -> int:
        removed = 0
        while True:
            batch = await self._write(webhooks.prune, before, webhooks.PRUNE_BATCH)
            removed += batch
            if batch < webhooks.PRUNE_BATCH:
                return removed

    # --- the event outbox -----------------------------------------------------------------------

    async def pending_events(self, limit: int) -> list[PendingEvent]:
        return await self._read(events.pending, limit)

    async def mark_events_published(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        return await self._write(events.mark_published, list(ids))

    async def record_event_failure(self, ids: Sequence[int], error: str) -> None:
        if ids:
            await self._write(events.record_failure, list(ids), error)

    async def event_backlog(self) -> EventBacklog:
        return await self._read(events.backlog)

    async def prune_events(self, before: datetime) -> int:
        """Published events before `before`, oldest first, a batch per transaction."""
        removed = 0
        while True:
            batch = await self._write(events.prune, before, events.PRUNE_BATCH)
            removed += batch
            if batch < events.PRUNE_BATCH:
                return removed

    async def check_writable(self) -> bool:
        """A real commit within two seconds: the honest answer to "can we accept webhooks now?"."""
        try:
            async with asyncio.timeout(HEALTH_DEADLINE_SECONDS):
                await self._write(webhooks.nothing)
        except (StoreError, psycopg.Error, PoolTimeout, TimeoutError, OSError):
            return False
        return True

    async def last_webhook_at(self) -> datetime | None:
        return await self._read(webhooks.last_webhook_at)

    async def rejected_webhooks(self, limit: int = 200) -> list[WebhookRecord]:
        return await self._read(webhooks.rejected_webhooks, limit)

    async def count_rejected_webhooks(self) -> int:
        return await self._read(webhooks.count_rejected_webhooks)

    # --- outbox ---------------------------------------------------------------------------------

    async def queue_draft(self, draft: Draft, idempotency_key: str) -> int | None:
        return await self._write(outbox.queue_outbound, draft, idempotency_key)

    async def claim_unsent(
        self, limit: int, message_id: int | None = None, lease: Lease | None = None
    ) -> list[OutboundJob]:
        fence = (lease.owner, lease.term) if lease is not None else None
        ids = await self._write(outbox.claim_unsent, limit, message_id, fence)
        return await self._jobs(ids)

    async def take_over_sending(self, lease: Lease) -> list[OutboundJob]:
        ids = await self._write(outbox.take_over_sending, lease.owner, lease.term)
        return await self._jobs(ids)

    async def outbox_depth(self) -> OutboxDepth:
        return await self._read(outbox.outbox_depth)

    async def _jobs(self, ids: Sequence[int]) -> list[OutboundJob]:
        return await self._read(outbox.outbound_jobs, ids) if ids else []

    async def record_accepted(
        self, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
    ) -> None:
        await self._write(outbox.record_accepted, message_id, sid, status, from_addr, messaging_service_sid)

    async def record_failed(self, message_id: int, error_code: int | None, error_message: str) -> None:
        await self._write(outbox.record_failed, message_id, error_code, error_message)

    async def claimed_sids(self, sids: Sequence[str]) -> set[str]:
        return await self._read(outbox.claimed_sids, sids) if sids else set()

    # --- the sender lease ----------------------------------------------------------------------

    async def acquire_sender_lease(self, owner: str, duration: timedelta) -> Lease:
        return await self._write(lease.acquire, owner, duration)

    async def release_sender_lease(self, owner: str) -> bool:
        return await self._write(lease.release, owner)

    async def sender_lease(self) -> Lease | None:
        return await self._read(lease.live, self._clock())

    # --- contacts and drafts -------------------------------------------------------------------

    async def set_opt_state(self, address: str, action: OptAction, source: str) -> bool:
        return await self._write(outbox.set_opt_state, address, action, source)

    async def mark_read(self, address: str, agent: str | None = None) -> int:
        return await self._write(team.mark_read, address, agent)

    async def save_draft(self, address: str, body: str) -> None:
        await self._write(outbox.save_draft, address, body)

    async def get_draft(self, address: str) -> str:
        return await self._read(outbox.get_draft, address)

    async def count_drafts(self) -> int:
        return await self._read(outbox.count_drafts)

    async def get_contact(self, address: str) -> Contact | None:
        return await self._read(reads.get_contact, address)

    async def find_contacts(self, text: str, limit: int = 20) -> list[Contact]:
        return await self._read(reads.find_contacts, text, limit)

    # --- media ----------------------------------------------------------------------------------

    async def add_hosted_file(self, hosted: HostedFile) -> None:
        await self._write(media.add_hosted_file, hosted)

    async def get_hosted_file(self, file_id: str) -> HostedFile | None:
        return await self._read(media.get_hosted_file, file_id)

    async def claim_media_downloads(self, limit: int, lease: timedelta) -> list[MediaDownload]:
        ids = await self._write(media.claim_media, limit, lease)
        return await self._read(media.media_downloads, ids) if ids else []

    async def record_media_downloaded(self, media_id: int, local_path: str, size_bytes: int) -> None:
        await self._write(media.record_media_downloaded, media_id, local_path, size_bytes)

    async def record_media_failed(self, media_id: int, error: str, retry_after: timedelta | None) -> None:
        await self._write(media.record_media_failed, media_id, error, retry_after)

    async def expired_media(
        self, before: datetime, limit: int, after: MediaFile | None = None
    ) -> list[MediaFile]:
        return await self._read(media.expired_media, before, limit, after)

    async def record_media_removed(self, files: Sequence[MediaFile], reason: str) -> int:
        if not files:
            return 0
        return await self._write(media.record_media_removed, list(files), reason)

    # --- templates ------------------------------------------------------------------------------

    async def replace_templates(self, synced: Sequence[TemplateInfo]) -> None:
        await self._write(templates.replace_all, list(synced))

    async def list_templates(self) -> list[TemplateInfo]:
        return await self._read(templates.list_all)

    async def template_send_errors(self, after_seq: int, upto_seq: int) -> list[int]:
        return await self._read(templates.send_errors, after_seq, upto_seq)

    # --- messages and conversations -------------------------------------------------------------

    async def list_messages(self, query: MessageQuery) -> list[Message]:
        return await self._read(reads.list_messages, query)

    async def get_message(self, sid: str) -> Message | None:
        return await self._read(reads.get_message, sid)

    async def get_message_by_id(self, message_id: int) -> Message | None:
        return await self._read(reads.get_message_by_id, message_id)

    async def messages_changed_since(self, seq: int, limit: int = 500) -> list[Message]:
        upto = await self.change_number()
        return await self._read(reads.messages_changed_since, seq, upto, limit)

    async def thread_page(self, address: str, before_id: int | None = None, limit: int = 50) -> list[Message]:
        return await self._read(reads.thread_page, address, before_id, limit)

    async def search(self, text: str, limit: int = 50, offset: int = 0) -> list[Message]:
        return await self._read(reads.search, text, limit, offset)

    async def list_conversations(
        self,
        limit: int | None = None,
        addresses: Sequence[str] | None = None,
        after: Conversation | None = None,
        where: ConversationFilter | None = None,
        agent: str | None = None,
    ) -> list[Conversation]:
        return await self._read(
            reads.list_conversations, self._clock(), limit, addresses, after, where, agent
        )

    async def conversation_counts(
        self, where: ConversationFilter | None = None, agent: str | None = None
    ) -> ConversationCounts:
        return await self._read(reads.conversation_counts, self._clock(), where, agent)

    # --- the change feed ------------------------------------------------------------------------

    async def change_number(self) -> int:
        """The horizon (`feed.py`): every change at or below it is committed, and none will come."""
        return await self._read(feed.horizon)

    async def changes_since(self, since: int) -> Changes:
        """What changed in `(since, horizon]`; the horizon is read first, so a commit that lands
        while this reads is either inside it (and read) or above it (and read next time)."""
        upto = await self.change_number()
        if upto <= since:
            return Changes(max(upto, since), [], [])
        return await self._read(reads.changes_since, since, upto, self._clock())

    async def changes(self) -> AsyncIterator[None]:
        async for _ in feed.changes(self._notifications, self.change_number):
            yield

    # --- the team -------------------------------------------------------------------------------

    async def record_agent(self, name: str) -> Agent:
        return await self._write(team.record_agent, name)

    async def list_agents(self) -> list[Agent]:
        return await self._read(team.list_agents)

    async def assign(self, address: str, assignee: str | None, by: str) -> bool:
        return await self._write(team.assign, address, assignee, by)

    async def set_conversation_status(
        self, address: str, status: str, by: str, until: datetime | None = None
    ) -> bool:
        """`ValueError` for a status `domain.team.ConversationStatus` does not name, or a snooze
        without `until`; `until` is ignored for any other status."""
        status = ConversationStatus(status)
        if status is ConversationStatus.SNOOZED and until is None:
            raise ValueError("A snooze needs the time it ends (`until`).")
        snooze = until if status is ConversationStatus.SNOOZED else None
        return await self._write(team.set_conversation_status, address, str(status), by, snooze)

    async def add_note(self, address: str, author: str, body: str) -> ThreadEvent:
        event_id = await self._write(team.add_note, address, author, body)
        return await self._read(team.event_by_id, event_id)

    async def thread_events(self, address: str, limit: int = 500) -> list[ThreadEvent]:
        return await self._read(team.thread_events, address, limit)

    async def set_label(self, address: str, label: str, present: bool, by: str) -> bool:
        return await self._write(team.set_label, address, label, present, by)

    async def list_labels(self) -> list[str]:
        return await self._read(team.list_labels)

    async def save_reply(self, name: str, body: str, by: str) -> None:
        await self._write(team.save_reply, name, body, by)

    async def delete_reply(self, name: str) -> bool:
        return await self._write(team.delete_reply, name)

    async def list_replies(self) -> list[SavedReply]:
        return await self._read(team.list_replies)

    async def touch_presence(self, agent: str, address: str, typing: bool = False) -> None:
        await self._write(team.touch_presence, agent, address, typing)

    async def leave_presence(self, agent: str) -> None:
        await self._write(team.leave_presence, agent)

    async def presence(self, address: str) -> list[Presence]:
        return await self._read(team.presence, address, self._clock())

    async def opt_history(self, address: str) -> list[OptEvent]:
        return await self._read(team.opt_history, address)

    # --- the database's growth -----------------------------------------------------------------

    async def stats(self) -> StoreStats:
        return await self._read(stats.stats)

    async def vacuum_step(self, pages: int) -> int:
        """PostgreSQL's autovacuum keeps dead rows reusable on its own; a step here runs a plain
        `VACUUM` (online, writes go on) and reports 0: nothing is left for wa-inbox to give back."""
        if self._read_only:
            raise StoreError("This store was opened read-only: it cannot vacuum.")
        await stats.vacuum(self.url, full=False)
        return 0

    async def vacuum_full(self) -> None:
        """`VACUUM FULL`: rewrites every table compactly, locking each while it is rewritten."""
        if self._read_only:
            raise StoreError("This store was opened read-only: it cannot vacuum.")
        await stats.vacuum(self.url, full=True)


def _translate_errors(store_class: type) -> None:
    """Every public coroutine raises `StoreError`s, never psycopg's: callers of the `Store` protocol
    must not depend on the backend behind it."""
    for name, member in list(vars(store_class).items()):
        if name.startswith("_") or name == "open":
            continue
        if inspect.iscoroutinefunction(member):
            setattr(store_class, name, _translating(member))


def _translating(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def translated(*args: Any, **kwargs: Any) -> T:
        try:
            return await method(*args, **kwargs)
        except psycopg.errors.IntegrityError as error:
            raise StoreConflict(connection.describe(error)) from error
        except psycopg.Error as error:
            raise StoreError(connection.describe(error)) from error
        except PoolTimeout as error:
            raise StoreError(f"No database connection became free in time ({error}).") from error

    return translated


_translate_errors(PostgresStore)
