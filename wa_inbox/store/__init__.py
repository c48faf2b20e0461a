"""All SQL lives in this package.

`Store` is the interface the rest of wa-inbox codes against. It speaks only in domain dataclasses and
plain values, so that a PostgreSQL implementation (chosen by a database URL, with LISTEN/NOTIFY as its
change feed) can sit beside `SqliteStore` as a new module, not a rewrite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from wa_inbox.domain.models import (
    Contact,
    Conversation,
    InboundMessage,
    Message,
    OutboundJob,
    StatusUpdate,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store.reads import MessageQuery

__all__ = ["MessageQuery", "Store", "open_store"]


class Store(Protocol):
    """What the receiver, the outbox, the CLI and the TUI may ask of the database."""

    @property
    def committed_seq(self) -> int: ...
    def on_commit(self, listener: Callable[[int], None]) -> None: ...
    async def close(self) -> None: ...

    async def ingest_inbound(
        self,
        msg: InboundMessage,
        record: WebhookRecord,
        opt_action: OptAction | None = None,
        confirmation: str | None = None,
    ) -> bool: ...
    async def ingest_status(self, update: StatusUpdate, record: WebhookRecord) -> bool: ...
    async def log_rejection(self, record: WebhookRecord) -> None: ...
    async def check_writable(self) -> bool: ...

    async def queue_draft(self, draft: Draft, idempotency_key: str) -> int | None: ...
    async def claim_unsent(self, limit: int) -> list[OutboundJob]: ...
    async def list_sending(self) -> list[OutboundJob]: ...
    async def record_accepted(
        self, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
    ) -> None: ...
    async def record_failed(self, message_id: int, error_code: int | None, error_message: str) -> None: ...
    async def set_opt_state(self, address: str, action: OptAction, source: str) -> bool: ...
    async def claimed_sids(self, sids: Sequence[str]) -> set[str]: ...

    async def list_messages(self, query: MessageQuery) -> list[Message]: ...
    async def get_message(self, sid: str) -> Message | None: ...
    async def get_message_by_id(self, message_id: int) -> Message | None: ...
    async def messages_changed_since(self, seq: int, limit: int = 500) -> list[Message]: ...
    async def get_contact(self, address: str) -> Contact | None: ...
    async def list_conversations(self, limit: int | None = None) -> list[Conversation]: ...
    async def count_rejected_webhooks(self) -> int: ...


async def open_store(path: Path) -> Store:
    """Open (creating and migrating as needed) the database at `path`."""
    from wa_inbox.store.sqlite import SqliteStore

    return await SqliteStore.open(path)
