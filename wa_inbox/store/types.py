"""The values the `Store` protocol takes and gives besides domain dataclasses: a query and a change batch.

Plain frozen dataclasses with no database in them, so that every implementation (SQLite today,
PostgreSQL next) and every caller share them; `wa_inbox.store` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass

from wa_inbox.domain.models import Conversation, Direction, Message


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Filters of `messages list`; None means any.

    `before_id` pages: only messages older than message `before_id` (pass the last id of a page,
    newest first, to get the next one); None starts at the newest.
    """

    to_addr: str | None = None
    from_addr: str | None = None
    direction: Direction | None = None
    status: str | None = None
    limit: int = 50
    before_id: int | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """What the change feed has for a reader that last saw `since`: enough to update a screen."""

    seq: int
    messages: list[Message]
    conversations: list[Conversation]


@dataclass(frozen=True, slots=True)
class ConversationCounts:
    """The inbox's totals, from the read model whatever the page on screen."""

    conversations: int
    unread_conversations: int
    unread_messages: int
