"""The values the `Store` protocol takes and gives besides domain dataclasses: a query and a change batch.

Plain frozen dataclasses with no database in them, so that every implementation (SQLite today,
PostgreSQL next) and every caller share them; `wa_inbox.store` re-exports both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from wa_inbox.domain.models import Conversation, Direction, Message
from wa_inbox.domain.team import ThreadEvent


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters of `messages list`; None means any.

    `created_since` and `created_before` bound the time a message was stored (`Message.created_at`:
    when an inbound one arrived, when an outbound one was queued): at or after `created_since`, before
    `created_before`. With either, the newest first is by that time (then by id), the order an index
    on it keeps, so that a page of a narrow or a wide period costs the same.

    `before_id` pages: only the messages after message `before_id` in that order (pass the last id of
    a page to get the next one); None starts at the newest.
    """

    to_addr: str | None = None
    from_addr: str | None = None
    direction: Direction | None = None
    status: str | None = None
    limit: int = 50
    before_id: int | None = None
    created_since: datetime | None = None
    created_before: datetime | None = None

    @property
    def by_time(self) -> bool:
        """Whether a time bound orders the result by `created_at` (else by id)."""
        return self.created_since is not None or self.created_before is not None


@dataclass(frozen=True, slots=True)
class OutboxDepth:
    """What waits for Twilio: the outbox's queue as the database has it (`Store.outbox_depth`)."""

    pending: int
    """Queued, not yet claimed by a sender."""
    sending: int
    """Claimed: a request may be in flight, or its sender died and the next one resolves it."""
    oldest_pending_at: datetime | None
    """When the oldest pending message was queued; None when none is."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What the change feed has for a reader that last saw `since`: enough to update a screen."""

    seq: int
    messages: list[Message]
    conversations: list[Conversation]
    events: list[ThreadEvent] = field(default_factory=list)
    """Notes, assignments, status and label changes written after `since`, oldest first."""
    more: bool = False
    """`seq` stopped short of the newest change (a page of about a thousand messages): read again."""


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """Which conversations a list or a count covers; the default covers every one.

    `statuses` None means any; the team views pass `domain.team.ACTIVE` (open and pending, and a
    snooze whose time has come counts as open)."""

    assignee: str | None = None
    """Only those assigned to this agent."""
    unassigned: bool = False
    """Only those assigned to nobody."""
    statuses: frozenset[str] | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationCounts:
    """The inbox's totals, from the read model whatever the page on screen."""

    conversations: int
    unread_conversations: int
    unread_messages: int


STATS_TABLES = (
    "messages",
    "contacts",
    "conversations",
    "media",
    "status_events",
    "webhook_log",
    "opt_events",
    "templates",
    "drafts",
    "media_files",
    "events",
)
"""The tables `StoreStats.rows` counts, in the order `db stats` shows them."""


@dataclass(frozen=True, slots=True)
class StoreStats:
    """How big the database is, and what a vacuum could give back (`wa-inbox db stats`)."""

    rows: Mapping[str, int]
    """Rows per table of `STATS_TABLES`, counted exactly."""
    bytes_on_disk: int
    """The database's own storage (SQLite: the database file), the log aside."""
    log_bytes: int
    """The write-ahead log's (SQLite: the `-wal` file; 0 when there is none)."""
    media_bytes: int
    """Media kept in the data directory: downloaded from customers plus hosted for Twilio to fetch."""
    free_pages: int
    """Pages the storage holds but no row uses: what a vacuum gives back to the file system."""
    page_size: int
    """Bytes per page: `free_pages * page_size` is the space a vacuum would give back."""
    vacuums_online: bool
    """Whether `Store.vacuum_step` can give free pages back while writes go on; when False, only
    `vacuum_full` can (once, and it makes this True)."""
