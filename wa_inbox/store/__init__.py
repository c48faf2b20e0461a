"""All SQL lives in this package.

`Store` is the interface the rest of wa-inbox codes against. It speaks only in domain dataclasses and
plain values, so that a PostgreSQL implementation (chosen by a database URL, with LISTEN/NOTIFY as its
change feed) can sit beside `SqliteStore` as a new module, not a rewrite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from wa_inbox.domain.clock import Clock, utc_now
from wa_inbox.domain.lease import Lease
from wa_inbox.domain.models import (
    Contact,
    Conversation,
    HostedFile,
    InboundMessage,
    MediaDownload,
    Message,
    OutboundJob,
    StatusUpdate,
    WebhookRecord,
)
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store.types import Changes, MessageQuery

__all__ = ["Changes", "Lease", "MessageQuery", "Store", "open_store"]


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
    async def prune_webhook_log(self, before: datetime) -> int:
        """Delete the raw webhook log's rows that arrived before `before`; how many went."""
        ...

    async def check_writable(self) -> bool: ...

    async def queue_draft(self, draft: Draft, idempotency_key: str) -> int | None: ...
    async def claim_unsent(
        self, limit: int, message_id: int | None = None, lease: Lease | None = None
    ) -> list[OutboundJob]:
        """Mark up to `limit` pending messages (only `message_id`, if given) `sending`, durably, before
        any request leaves; the claimed jobs. Two claims never get the same message.

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
        """Give the lease back now, if `owner` holds it, so a sender standing by takes over at once."""
        ...

    async def sender_lease(self) -> Lease | None:
        """Who sends from this database: the live sender lease (its `owner`, until `expires_at`), or
        None when no sender holds one (none running, or the last one stopped or died and its lease
        ran out). Compare `owner` with `Outbox.owner` to tell this process's sender from another's.
        """
        ...

    async def record_accepted(
        self, message_id: int, sid: str, status: str, from_addr: str | None, messaging_service_sid: str | None
    ) -> None: ...
    async def record_failed(self, message_id: int, error_code: int | None, error_message: str) -> None: ...
    async def set_opt_state(self, address: str, action: OptAction, source: str) -> bool: ...
    async def claimed_sids(self, sids: Sequence[str]) -> set[str]: ...
    async def mark_read(self, address: str) -> int: ...

    async def save_draft(self, address: str, body: str) -> None:
        """Keep the unsent text of the conversation with `address` (a known contact) across restarts,
        replacing the one before; a blank `body` deletes it. The conversation's one draft, shared by
        every agent on this database: last write wins.

        Not a change of the conversation: `changes_since` does not report it, so other agents' screens
        do not redraw for it (nor learn of it until they ask with `get_draft`).
        """
        ...

    async def get_draft(self, address: str) -> str:
        """The conversation's unsent text, as last saved; "" when there is none."""
        ...

    async def count_drafts(self) -> int:
        """How many conversations have an unsent draft."""
        ...

    async def add_hosted_file(self, hosted: HostedFile) -> None: ...
    async def get_hosted_file(self, file_id: str) -> HostedFile | None: ...
    async def claim_media_downloads(self, limit: int, lease: timedelta) -> list[MediaDownload]: ...
    async def record_media_downloaded(self, media_id: int, local_path: str, size_bytes: int) -> None: ...
    async def record_media_failed(self, media_id: int, error: str, retry_after: timedelta | None) -> None: ...

    async def replace_templates(self, synced: Sequence[TemplateInfo]) -> None: ...
    async def list_templates(self) -> list[TemplateInfo]: ...
    async def template_send_errors(self, after_seq: int, upto_seq: int) -> list[int]: ...

    async def list_messages(self, query: MessageQuery) -> list[Message]: ...
    async def get_message(self, sid: str) -> Message | None: ...
    async def get_message_by_id(self, message_id: int) -> Message | None: ...
    async def messages_changed_since(self, seq: int, limit: int = 500) -> list[Message]: ...
    async def thread_page(
        self, address: str, before_id: int | None = None, limit: int = 50
    ) -> list[Message]: ...
    async def search(self, text: str, limit: int = 100) -> list[Message]: ...
    async def find_contacts(self, text: str, limit: int = 20) -> list[Contact]:
        """Customers by name (contains, any case) or number (contains the digits typed)."""
        ...

    async def changes_since(self, since: int) -> Changes: ...
    async def data_version(self) -> int: ...
    async def get_contact(self, address: str) -> Contact | None: ...
    async def list_conversations(
        self, limit: int | None = None, addresses: Sequence[str] | None = None
    ) -> list[Conversation]: ...
    async def last_webhook_at(self) -> datetime | None: ...
    async def rejected_webhooks(self, limit: int = 200) -> list[WebhookRecord]: ...
    async def count_rejected_webhooks(self) -> int: ...


async def open_store(path: Path, *, clock: Clock = utc_now) -> Store:
    """Open (creating and migrating as needed) the database at `path`. Close it with `close()`.

    `clock` is the store's "now" for the times it stamps itself (queued, claimed, read, the sender
    lease); tests pass a hand-moved one. Times that come with a value (a webhook's `received_at`)
    are kept as given.
    """
    from wa_inbox.store.sqlite import SqliteStore

    return await SqliteStore.open(path, clock)
