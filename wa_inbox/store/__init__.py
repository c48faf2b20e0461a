"""All SQL lives in this package.

`Store` is the interface the rest of wa-inbox codes against. It speaks only in domain dataclasses and
plain values, so that a PostgreSQL implementation (chosen by a database URL, with LISTEN/NOTIFY as its
change feed) can sit beside `SqliteStore` as a new module, not a rewrite. The values it takes and gives
besides domain dataclasses (`MessageQuery`, `Changes`) are in `wa_inbox.store.types`, re-exported here;
`tests/store/test_contract_*.py` is the suite every implementation must pass (see `tests/store/conftest.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from wa_inbox.dburl import SCHEMES, DatabaseUrl, scheme_of
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
from wa_inbox.domain.team import Agent, OptEvent, Presence, SavedReply, ThreadEvent
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store.errors import NewerSchema, StoreConflict, StoreError, UnknownConversation
from wa_inbox.store.types import (
    Changes,
    ConversationCounts,
    ConversationFilter,
    MessageQuery,
    OutboxDepth,
    StoreStats,
)

__all__ = [
    "Changes",
    "ConversationCounts",
    "ConversationFilter",
    "DatabaseUrl",
    "Lease",
    "MessageQuery",
    "NewerSchema",
    "OutboxDepth",
    "Store",
    "StoreConflict",
    "StoreError",
    "StoreStats",
    "UnknownConversation",
    "database_location",
    "open_store",
    "pending_steps",
    "upgrade_in_place",
]


class Store(Protocol):
    """What the receiver, the outbox, the CLI and the TUI may ask of the database.

    Promises every implementation keeps (`tests/store/test_contract_*.py` checks them, once per backend):

    - A write has happened, durably, once its coroutine returns; a write that raises wrote nothing.
      Concurrent writes may share one commit (one change number) and never see each other half done.
    - Reads see every write this store has returned from, and writes other processes committed.
    - Times are aware datetimes in UTC. Times the store stamps itself (queued, claimed, read, the sender
      lease, drafts) come from its clock (`open_store(..., clock=)`); times that arrive with a value (a
      webhook's `received_at`) are kept as given.
    - Addresses are stored as given (`whatsapp:+E164`): nothing here normalises them.

    What any member may raise, besides what its own docstring says:

    - once `close()` has begun, `RuntimeError` from a write and an error from a read (today
      aiosqlite's `ValueError`): a closed store is a caller's bug, not a condition to handle;
    - `StoreError` when the database refuses (locked, full, broken), `StoreConflict` (a `StoreError`)
      when a write breaks a constraint: never a driver's own exception;
    - for a write, `wa_inbox.store.writer.WriterGone` (a `StoreError`) when the SQLite writer process
      died during its commit: whether it was written is unknown, so only an idempotent write may simply
      be retried.
    """

    @property
    def committed_seq(self) -> int:
        """Grows with each commit of this store's writes (0 before the first), never decreasing: on
        SQLite the change number of the latest one, on PostgreSQL a count (its change numbers are
        transaction ids, see `postgres/feed.py`).

        Only this process's commits move it; commits made by other processes show in `changes_since`
        and the `changes` feed, not here.
        """
        ...

    def on_commit(self, listener: Callable[[int], None]) -> None:
        """Call `listener(change_number)` on the event loop after each commit: on SQLite of this
        store's writes, at once; on PostgreSQL of any process's (LISTEN/NOTIFY), so that the one
        replica running a duty hears what the others wrote. The number is that commit's: rows it wrote
        are in (`number - 1`, `number`]. Commits may be told out of order. A listener must return
        quickly and not raise; there is no way to remove one.
        """
        ...

    def on_batch(self, listener: Callable[[int], None]) -> None:
        """Call `listener(writes)` on the event loop after each commit of this store's writes, with
        how many writes it carried (several, when concurrent writes share a commit; 1 otherwise).

        This process's commits only, the same ones `on_commit` hears (the metrics count them). A
        listener must return quickly and not raise; there is no way to remove one.
        """
        ...

    async def close(self) -> None:
        """Finish the writes already submitted, then release the database (and any writer process).

        Call once; the store is unusable afterwards (see the class docstring for what then raises).
        """
        ...

    async def ingest_inbound(
        self,
        msg: InboundMessage,
        record: WebhookRecord,
        opt_action: OptAction | None = None,
        confirmation: str | None = None,
        event: Event | None = None,
    ) -> bool:
        """Store a customer's message, its contact (created or updated: profile name, WhatsApp id, last
        inbound time, from which the 24-hour window is measured) and its media (due for download),
        and log `record`, all in one commit. True when the message is new; False for a retry of a
        message SID already stored (logged as a duplicate, nothing else changed).

        With `event` (the receiver passes one when the event stream is on), a new message's event goes
        into the event outbox in that same commit, unpublished, written at `record.received_at`; a
        retry writes none (see `pending_events`).

        With `opt_action`, the contact is opted out or back in (with an audit row) unless it already
        was; when that changed it and `confirmation` is given, the confirmation is queued as an
        outbound message to the customer (flagged `opt_confirmation` for a STOP). The window is
        measured from `record.received_at`: when the webhook arrived, not when it was written.
        """
        ...

    async def ingest_status(
        self, update: StatusUpdate, record: WebhookRecord, event: Event | None = None
    ) -> bool:
        """Store a status callback and log `record`, in one commit; False when this (sid, status) pair
        was seen before (logged as a duplicate, nothing else changed). With `event`, a new callback's
        event goes into the event outbox in that commit, as for `ingest_inbound`.

        A status only ever moves a message up its lifecycle (`domain.status.supersedes`): a late `sent`
        never undoes `delivered`. A callback for a SID not stored yet (Twilio's callback beat our
        `record_accepted`, or a message sent from elsewhere on the account) leaves a placeholder that
        `record_accepted` folds in. An error code that means the customer opted out opts them out.
        """
        ...

    async def log_rejection(self, record: WebhookRecord) -> None:
        """Keep a refused request in the raw webhook log as the receiver cut it (`body_bytes` and
        `header_bytes` give the sizes of what came); `rejected_webhooks` then lists it."""
        ...

    async def prune_webhook_log(self, before: datetime) -> int:
        """Delete the raw webhook log's rows that arrived before `before`; how many went.

        Only the raw requests go: the dedupe keys (messages' SIDs, status events) stay, so Twilio's
        retries of a pruned webhook are still recognised. Runs in several commits on a long log.
        """
        ...

    # --- the event outbox (see `domain.events`) ------------------------------------------------------

    async def pending_events(self, limit: int) -> list[PendingEvent]:
        """The oldest `limit` events not yet marked published, in the order they were written (their
        webhooks' commit order), each with its id, when it was written and how often it was tried."""
        ...

    async def mark_events_published(self, ids: Sequence[int]) -> int:
        """The broker acknowledged the events with these ids: published now, never listed again by
        `pending_events`; how many were not marked before (unknown or already published ids count
        nothing). An empty `ids` writes nothing."""
        ...

    async def record_event_failure(self, ids: Sequence[int], error: str) -> None:
        """A try to publish these events failed with `error` (kept cut to a few hundred characters):
        each still pending one counts the try, and `event_backlog` reports the error. They stay
        pending, in their place."""
        ...

    async def event_backlog(self) -> EventBacklog:
        """How many events wait to be published, when the oldest of them was written, and the error of
        the last failed try to publish it (None when it was not tried, or its try did not fail).
        Cheap: along the unpublished events only, however many were published."""
        ...

    async def prune_events(self, before: datetime) -> int:
        """Delete the events published before `before`; how many went. Unpublished events are never
        deleted, however old. Runs in several commits on a long outbox."""
        ...

    async def check_writable(self) -> bool:
        """Whether a real, durable commit goes through within two seconds: the honest answer to "can
        we accept webhooks now?". A database that refuses or is too slow is a False, not an error."""
        ...

    async def queue_draft(self, draft: Draft, idempotency_key: str) -> int | None:
        """Queue `draft` for the sender as an outbound message in status `pending` (its contact created
        if new), already read by the agent; the new message's id. None when `idempotency_key` was
        queued before (a repeated submit): nothing is queued twice under one key.

        Checks no policy (window, opt-out, template): that is the outbox's, before it calls this.
        """
        ...

    async def claim_unsent(
        self, limit: int, message_id: int | None = None, lease: Lease | None = None
    ) -> list[OutboundJob]:
        """Mark up to `limit` pending messages (only `message_id`, if given) `sending`, durably, before
        any request leaves; the claimed jobs, oldest first, each with one more attempt counted. Two
        claims never get the same message.

        With `lease`, nothing is claimed unless it is the live sender lease, and each claim records
        its owner and term. Without, the claim has no owner (seeding, tests playing a sender), and
        the next holder's `take_over_sending` takes it as left behind.
        """
        ...

    async def take_over_sending(self, lease: Lease) -> list[OutboundJob]:
        """For the live holder of `lease`, right after it took the lease: every message still
        `sending` under an ended lease (another sender's, expired or given back, an earlier term of
        its own, or claimed with none), recorded as claimed under `lease` and returned. Their requests
        may or may not have reached Twilio: look each up before sending it again. Empty when `lease`
        is not the live one.
        """
        ...

    async def acquire_sender_lease(self, owner: str, duration: timedelta) -> Lease:
        """Take the sender lease for `owner` until now + `duration` when nobody holds it (never
        taken, given back, or expired), or extend it when `owner` holds it; returns the lease as it
        stands after: `owner`'s, or the live holder's. A lapsed lease is taken with a new term, even
        by its last owner.
        """
        ...

    async def release_sender_lease(self, owner: str) -> bool:
        """Give the lease back now, if `owner` holds it, so a sender standing by takes over at once.

        True when it was `owner`'s and is now nobody's; False (and nothing changed) otherwise.
        """
        ...

    async def outbox_depth(self) -> OutboxDepth:
        """How many outbound messages are pending (queued, unclaimed) and sending (claimed, not yet
        taken by Twilio nor failed), and when the oldest pending one was queued. As cheap as a few
        rows however long the history: read at every metrics scrape."""
        ...

    async def sender_lease(self) -> Lease | None:
        """Who sends from this database: the live sender lease (its `owner`, until `expires_at`), or
        None when no sender holds one (none running, or the last one stopped or died and its lease
        ran out). Compare `owner` with `Outbox.owner` to tell this process's sender from another's.
        """
        ...

    async def record_accepted(
        self, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
    ) -> None:
        """Twilio accepted message `message_id` as `sid` with `status`: record them (and the sender
        number and messaging service Twilio chose). When callbacks for `sid` arrived first, their
        placeholder is folded in: its status, if further along, and its error are kept, and the
        message keeps `message_id`, which must be one `queue_draft` returned.
        """
        ...

    async def record_failed(self, message_id: int, error_code: int | None, error_message: str) -> None:
        """Message `message_id` will not be sent (Twilio refused it, or the sender gave up): status
        `failed`, with the error. Nothing happens for an unknown `message_id`."""
        ...

    async def set_opt_state(self, address: str, action: OptAction, source: str) -> bool:
        """Opt the customer at `address` out (STOP) or back in (START) by hand or from a Twilio error,
        creating the contact if new, with an audit row naming `source`; False when they already were
        in that state (nothing written). Opting out records when and why; opting in clears both.
        """
        ...

    async def claimed_sids(self, sids: Sequence[str]) -> set[str]:
        """Which of `sids` belong to a message this database queued (not to placeholders that callbacks
        left for messages sent from elsewhere): how the sender recognises its own requests."""
        ...

    async def mark_read(self, address: str, agent: str | None = None) -> int:
        """The agent read the conversation with `address`: every unread inbound message of it is
        marked read now; how many were. A change of the conversation (its unread count). With
        `agent`, that agent's own read mark moves to the newest message too (see `list_conversations`'
        `agent`)."""
        ...

    async def save_draft(self, address: str, body: str) -> None:
        """Keep the unsent text of the conversation with `address` (a known contact) across restarts,
        replacing the one before; a blank `body` deletes it. The conversation's one draft, shared by
        every agent on this database: last write wins.

        Not a change of the conversation: `changes_since` does not report it, so other agents' screens
        do not redraw for it (nor learn of it until they ask with `get_draft`). Raises
        `StoreConflict` for an address that is no contact.
        """
        ...

    async def get_draft(self, address: str) -> str:
        """The conversation's unsent text, as last saved; "" when there is none."""
        ...

    async def count_drafts(self) -> int:
        """How many conversations have an unsent draft."""
        ...

    async def add_hosted_file(self, hosted: HostedFile) -> None:
        """Record a file copied into the data directory for Twilio to fetch: the receiver serves only
        files recorded here. Raises the backend's integrity error for an id recorded before."""
        ...

    async def get_hosted_file(self, file_id: str) -> HostedFile | None:
        """The hosted file recorded under `file_id`; None when there is none. One that retention
        removed is still returned, with `removed` saying why, so its link can answer "gone"."""
        ...

    async def claim_media_downloads(self, limit: int, lease: timedelta) -> list[MediaDownload]:
        """Up to `limit` inbound media items due for a download try (never downloaded, not given up,
        and not leased or waiting for a retry), oldest first, each leased to the caller for `lease`
        (another claim skips it until then) with one more attempt counted. A caller that dies leaves
        the item to fall due again when its lease ends.
        """
        ...

    async def record_media_downloaded(self, media_id: int, local_path: str, size_bytes: int) -> None:
        """Media item `media_id` is here, at `local_path`: its message shows it (a change of the
        message)."""
        ...

    async def record_media_failed(self, media_id: int, error: str, retry_after: timedelta | None) -> None:
        """A failed download try of item `media_id`: tried again after `retry_after`, or, when that is
        None, never again, and its message shows `error` (a change of the message)."""
        ...

    async def expired_media(
        self, before: datetime, limit: int, after: MediaFile | None = None
    ) -> list[MediaFile]:
        """Media files recorded as on disk that were stored before `before`, for retention to remove:
        downloaded inbound items, aged from when they were downloaded, and hosted files, from when
        they were attached. Oldest first (ties by kind, then key), at most `limit`; with `after` (a
        file of the previous page, usually its last), the page that follows it, so a caller that
        leaves some files alone still moves on. A file recorded as removed is never listed. Each
        page costs about the same however many files the database records.
        """
        ...

    async def record_media_removed(self, files: Sequence[MediaFile], reason: str) -> int:
        """`files` (as `expired_media` gave them) are gone from disk: record each as removed now,
        with `reason` (a phrase the screens show, such as "removed after 30 days"), in one commit;
        how many were not recorded as removed before (a file recorded already, or unknown, is left
        as it is, so repeating the call is harmless).

        An inbound item loses its `local_path`, its `MediaRef.removed` says `reason` (a change of
        its message), and it is never claimed for download again. A hosted file stays recorded:
        `get_hosted_file` returns it with `removed` set. An empty `files` writes nothing.
        """
        ...

    async def replace_templates(self, synced: Sequence[TemplateInfo]) -> None:
        """The account's templates as just read from Twilio, replacing the whole stored set in one
        commit (a template deleted at Twilio goes here too), each stamped synced now."""
        ...

    async def list_templates(self) -> list[TemplateInfo]:
        """The stored templates by name, then language: the order the picker and `templates list` show."""
        ...

    async def template_send_errors(self, after_seq: int, upto_seq: int) -> list[int]:
        """The distinct error codes, ascending, of template messages Twilio accepted and that then
        failed or went undelivered, written by commits numbered in (`after_seq`, `upto_seq`]."""
        ...

    async def list_messages(self, query: MessageQuery) -> list[Message]:
        """The messages `query` selects (every filter that is not None must match), newest first, at
        most `query.limit`: by id, or with a time bound (`created_since`, `created_before`) by
        `created_at`, then id. With `query.before_id`, the page that follows the message with that
        id: repeating with the last id of each page walks every selected message once, even while
        new ones arrive (they are newer than the first page). A page costs about the same however
        deep in the history it is, without filters other than the time bounds."""
        ...

    async def get_message(self, sid: str) -> Message | None:
        """The message Twilio knows as `sid`; None when none is stored."""
        ...

    async def get_message_by_id(self, message_id: int) -> Message | None:
        """The message with our id `message_id` (queued messages have one before they have a SID);
        None when there is none."""
        ...

    async def messages_changed_since(self, seq: int, limit: int = 500) -> list[Message]:
        """Up to `limit` messages written or changed by commits after change number `seq`, in the
        order of their latest change (oldest first)."""
        ...

    async def thread_page(self, address: str, before_id: int | None = None, limit: int = 50) -> list[Message]:
        """One page of the conversation with `address`, oldest first: the `limit` messages just before
        message `before_id` (or the newest, when None). Pass the first message's id of a page to get
        the page before it; an empty list is the beginning."""
        ...

    async def search(self, text: str, limit: int = 50, offset: int = 0) -> list[Message]:
        """Messages whose text has every word of `text` as a word prefix, ignoring case and accents,
        best match first (bm25 relevance among the newest 2,000 matches, then newest first): the
        page of at most `limit` after skipping `offset`. [] for text with no words. Never raises for
        what was typed (quotes, operators, control characters are plain text). A page costs about
        the same however many messages the database holds."""
        ...

    async def find_contacts(self, text: str, limit: int = 20) -> list[Contact]:
        """Customers by name (contains, any case; `%` and `_` are plain characters) or number (contains
        the digits typed), the named ones first by name; at most `limit`; [] for blank text."""
        ...

    async def changes_since(self, since: int) -> Changes:
        """What changed after change number `since`, for a reader bringing a screen up to date: the
        messages written or changed (as `messages_changed_since`), the thread events, the
        conversations touched (their messages, contact, opt-out, unread count, assignee, status,
        labels), and `seq`, the change number the reader has now seen (pass it next time). A reader
        starting out asks with 0.

        One read is a page: when more than about 1,000 messages (or thread events) changed, `seq`
        stops at the change number of the 1,000th, every row of that change included (one commit is
        never cut, however big), and `more` is set: read again from `seq` until it is not, and no
        change is skipped. What a page reports is consistent with its `seq`: the messages and events
        of changes up to it, and the conversations those changes touched (each read as it is now). A
        conversation touched only later comes with the page that reaches its change: reporting it
        early would be harmless but would read the whole burst's conversations on every page.
        """
        ...

    async def change_number(self) -> int:
        """The change number up to which everything is committed, by any process, for good: where a
        reader that has just read everything it shows starts following the feed. As cheap as a row.
        (On PostgreSQL, commits finish out of order: this stays below a transaction still running.)"""
        ...

    def changes(self) -> AsyncIterator[None]:
        """The change feed: yields once something was committed since the last yield, by this process
        or by any other on the same database; then read what changed with `changes_since`. A reader
        slower than the commits gets one yield for many. It runs until the reader stops iterating.
        """
        ...

    async def get_contact(self, address: str) -> Contact | None:
        """The customer at `address`; None when they never wrote nor were written to."""
        ...

    # --- the team ------------------------------------------------------------------------------------

    async def record_agent(self, name: str) -> Agent:
        """`name` is at work now: known from now on (first seen kept), last seen now. An agent's
        unread counts start from the newest message at their first sighting, not from history."""
        ...

    async def list_agents(self) -> list[Agent]:
        """Every agent ever recorded, by name."""
        ...

    async def assign(self, address: str, assignee: str | None, by: str) -> bool:
        """Give the conversation with `address` to `assignee` (None: to nobody), as `by` did; an
        `assigned` thread event records it. False, and no event, when it already was so.
        `UnknownConversation` (a `StoreError`) for an address that never wrote nor was written to."""
        ...

    async def set_conversation_status(
        self, address: str, status: str, by: str, until: datetime | None = None
    ) -> bool:
        """Set the conversation's `domain.team.ConversationStatus` (with `until` for a snooze, which
        ends by itself at that time), as `by` did; a `status` thread event records it. False, and no
        event, when nothing changed. A customer's new message reopens a resolved or snoozed
        conversation (see `ingest_inbound`). `UnknownConversation` for an unknown address."""
        ...

    async def add_note(self, address: str, author: str, body: str) -> ThreadEvent:
        """An internal note in the conversation's thread: never sent, never counted as a reply or as
        unread. `UnknownConversation` for an unknown address."""
        ...

    async def thread_events(self, address: str, limit: int = 500) -> list[ThreadEvent]:
        """The latest `limit` notes, assignments, status and label changes of the conversation,
        oldest first (the thread merges them with its messages by time)."""
        ...

    async def set_label(self, address: str, label: str, present: bool, by: str) -> bool:
        """Add (`present`) or remove a label of the conversation; a `label` thread event records it.
        False when nothing changed. `UnknownConversation` for an unknown address."""
        ...

    async def list_labels(self) -> list[str]:
        """Every label in use, by name."""
        ...

    async def save_reply(self, name: str, body: str, by: str) -> None:
        """Keep a saved reply under `name` (replacing one of that name)."""
        ...

    async def delete_reply(self, name: str) -> bool:
        """Forget the saved reply `name`; False when there was none."""
        ...

    async def list_replies(self) -> list[SavedReply]:
        """Every saved reply, by name."""
        ...

    async def touch_presence(self, agent: str, address: str, typing: bool = False) -> None:
        """`agent` has the conversation open (and is typing in it, if `typing`) now; the mark ends by
        itself `domain.team.PRESENCE_TTL` later unless touched again. An agent is present in one
        conversation at a time: touching another moves the mark."""
        ...

    async def leave_presence(self, agent: str) -> None:
        """`agent` closed their inbox: their mark ends now."""
        ...

    async def presence(self, address: str) -> list[Presence]:
        """Who has the conversation open now (marks not yet ended), by agent name."""
        ...

    async def opt_history(self, address: str) -> list[OptEvent]:
        """The customer's opt-out audit, oldest first: each STOP or START with its source (a
        keyword, a Twilio error, or the agent who changed it by hand)."""
        ...

    async def list_conversations(
        self,
        limit: int | None = None,
        addresses: Sequence[str] | None = None,
        after: Conversation | None = None,
        where: ConversationFilter | None = None,
        agent: str | None = None,
    ) -> list[Conversation]:
        """Conversations in list order: latest message first, ones without messages last (by
        address, descending, among themselves). At most `limit`; only those with `addresses`, or
        the page that follows `after` (a conversation from the previous page, usually its last);
        only those `where` covers. Each with its contact, latest message, unread count (with
        `agent`: the inbound messages newer than that agent's read mark, or than their first
        sighting), when its 24-hour window closes, its status, assignee, snooze and labels.
        A page costs the same however many conversations and messages the database holds."""
        ...

    async def conversation_counts(
        self, where: ConversationFilter | None = None, agent: str | None = None
    ) -> ConversationCounts:
        """How many conversations `where` covers (all by default), how many of them have unread
        messages, and how many unread messages in all (for `agent`, as `list_conversations` counts)."""
        ...

    async def last_webhook_at(self) -> datetime | None:
        """When the latest request written to the log arrived, accepted or not; None before the
        first. Cheap however long the log."""
        ...

    async def rejected_webhooks(self, limit: int = 200) -> list[WebhookRecord]:
        """The latest `limit` refused requests, newest first, with their reasons (for "why was this
        refused?"); accepted and duplicate ones are not listed."""
        ...

    async def count_rejected_webhooks(self) -> int:
        """How many refused requests the log holds."""
        ...

    async def stats(self) -> StoreStats:
        """What the database holds and how big it is: exact row counts per table (a year of messages
        counts in well under a second), its size on disk and its log's, the media's bytes, and the
        free pages a vacuum would give back."""
        ...

    async def vacuum_step(self, pages: int) -> int:
        """Give up to `pages` free pages back to the file system, in one short write (other writes go
        on between steps, and may share its commit); how many free pages are left. Repeat until 0:
        when it returns 0, the storage has shrunk. Raises `StoreError` when the database cannot
        vacuum online (`stats().vacuums_online` is False): `vacuum_full` must run once first.
        """
        ...

    async def vacuum_full(self) -> None:
        """Rewrite the whole database compactly, giving every free page back, and make later vacuums
        online (`vacuum_step`). Other writers wait (and may time out) until it ends: a year takes
        tens of seconds and needs free disk space about the database's size. `StoreError` on a
        read-only store."""
        ...


def open_store(
    location: str | Path | DatabaseUrl, *, clock: Clock = utc_now, read_only: bool = False
) -> OpeningStore:
    """Open (creating and migrating as needed) the database at `location`: `await` it for a store to
    `close()` yourself, or `async with open_store(...) as store:` to have it closed.

    `location` is a file path (SQLite) or a `postgresql://` URL (as text or a `DatabaseUrl`), for a
    database every replica and attached inbox shares. A path that cannot hold the database (not SQLite,
    a folder that cannot be written, ...) raises `files.UnusableDatabase`, a server that cannot be
    reached `StoreError`; both messages are one sentence with the fix. A new file is created 0600.
    Another URL scheme is refused with one sentence. A database a newer wa-inbox migrated (it records a
    schema step this release does not know) raises `NewerSchema`, one sentence, whether read-only or not.

    `clock` is the store's "now" for the times it stamps itself (queued, claimed, read, the sender
    lease); tests pass a hand-moved one. Times that come with a value (a webhook's `received_at`)
    are kept as given.

    `read_only` is for readers that never write (`messages list`, `templates list`): such a store may
    start no writer, and a write on it raises `StoreError`.
    """
    return OpeningStore(database_location(location), clock, read_only)


def upgrade_in_place(location: str | Path | DatabaseUrl, report: Callable[[str], None]) -> list[str]:
    """Bring the database at `location` to the newest schema now, in this process, and return the
    steps applied ([] when it was current or does not exist yet). A step that runs longer than a
    second says so through `report`, a line at a time. The inbox calls this before it takes the
    terminal, so a long upgrade of a year of messages is a visible wait, not a blank screen, and
    `wa-inbox db migrate` calls it as a deployment's step of its own. Each step is one transaction:
    stopped midway (even by kill -9), the database keeps the schema it had. `NewerSchema`, with
    nothing written, when a newer wa-inbox migrated the database.
    """
    where = database_location(location)
    if isinstance(where, DatabaseUrl):
        from wa_inbox.store.postgres.upgrade import upgrade_database

        return upgrade_database(where, report)
    from wa_inbox.store.sqlite import upgrade_file

    return upgrade_file(where, report) if where.exists() else []


def pending_steps(location: str | Path | DatabaseUrl) -> list[str]:
    """The schema steps the database at `location` lacks, read without writing anything: [] when it
    is current, every step when it does not exist yet. `NewerSchema` when a newer wa-inbox migrated
    it. For `serve` with `[store] migrate = "never"`, which leaves migrating to `wa-inbox db migrate`.
    """
    where = database_location(location)
    if isinstance(where, DatabaseUrl):
        from wa_inbox.store.postgres.upgrade import pending_in_database

        return pending_in_database(where)
    from wa_inbox.store.sqlite import pending_in_file

    return pending_in_file(where)


def database_location(location: str | Path | DatabaseUrl) -> Path | DatabaseUrl:
    """A file path or a PostgreSQL URL; another scheme is refused (a `Path` made of a URL keeps only
    `scheme:/`, so both spellings are caught)."""
    if isinstance(location, DatabaseUrl):
        return location
    text = str(location)
    scheme = scheme_of(text)
    if scheme is None:
        return Path(location)
    if scheme in SCHEMES and "://" in text:
        return DatabaseUrl(text)
    raise StoreError(
        f"wa-inbox cannot use a {scheme}: database: point WA_INBOX_DB (or --db) at a SQLite file path "
        "or a postgresql:// URL."
    )


class OpeningStore:
    """What `open_store` returns: awaitable (the store) and an async context manager (closed after)."""

    def __init__(self, where: Path | DatabaseUrl, clock: Clock, read_only: bool) -> None:
        self._where, self._clock, self._read_only = where, clock, read_only
        self._store: Store | None = None

    def __await__(self) -> Generator[Any, None, Store]:
        return self._open().__await__()

    async def _open(self) -> Store:
        if isinstance(self._where, DatabaseUrl):
            from wa_inbox.store.postgres.store import PostgresStore

            return await PostgresStore.open(self._where, self._clock, self._read_only)
        from wa_inbox.store.sqlite import SqliteStore

        return await SqliteStore.open(self._where, self._clock, self._read_only)

    async def __aenter__(self) -> Store:
        self._store = await self._open()
        return self._store

    async def __aexit__(self, *exc: object) -> None:
        if self._store is not None:
            await self._store.close()
