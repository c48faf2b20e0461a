"""The frozen dataclasses every layer passes around; the store returns these, never rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

Form = Mapping[str, list[str]]
"""A webhook's form as Twilio sent it: every key, every value, in order."""


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class WebhookKind(StrEnum):
    INBOUND = "inbound"
    STATUS = "status"


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    FORBIDDEN = "forbidden"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """One attachment of a message: Twilio's URL and the type Twilio declared."""

    index: int
    url: str
    content_type: str
    local_path: str | None = None
    """The downloaded copy of an inbound item; None while it is on its way (show a placeholder)."""
    download_error: str | None = None
    """Why an inbound item will not be downloaded, once every try failed or it was refused."""
    size_bytes: int | None = None
    """Known once the file is here (downloaded, or attached by us)."""
    removed: str | None = None
    """Why the downloaded copy is gone, when retention removed it ("removed after 30 days")."""


@dataclass(frozen=True, slots=True)
class MediaDownload:
    """An inbound media item claimed for download: where it is, and how many tries this one makes."""

    id: int
    message_sid: str
    index: int
    url: str
    content_type: str
    attempts: int


@dataclass(frozen=True, slots=True)
class HostedFile:
    """A local file copied into the data dir, which the receiver serves to Twilio through a signed link."""

    id: str
    path: str
    filename: str
    content_type: str
    size_bytes: int
    removed: str | None = None
    """Why the file is gone, when retention removed it ("removed after 30 days"): not served again."""


class MediaFileKind(StrEnum):
    INBOUND = "inbound"
    """A customer's media item, downloaded into the data dir."""
    HOSTED = "hosted"
    """A file an agent attached, copied into the data dir for Twilio to fetch."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file the store records as on disk, for retention to remove once it is old enough."""

    kind: MediaFileKind
    key: str
    """Which one, within its kind: the media item's id (as text) or the hosted file's id."""
    path: str
    """Where the store says the file is; retention checks it is inside the media folder."""
    stored_at: datetime
    """When it landed on disk: downloaded (inbound) or attached (hosted)."""


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    address: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message as parsed from Twilio's inbound webhook."""

    sid: str
    from_addr: str
    to_addr: str
    body: str
    account_sid: str | None = None
    messaging_service_sid: str | None = None
    profile_name: str | None = None
    wa_id: str | None = None
    message_type: str | None = None
    media: tuple[MediaRef, ...] = ()
    location: Location | None = None
    button_text: str | None = None
    button_payload: str | None = None
    referral: Mapping[str, str] = field(default_factory=dict)
    replied_to_sid: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One status callback for a message we (or someone on the account) sent."""

    sid: str
    status: str
    error_code: int | None = None
    error_message: str | None = None
    from_addr: str | None = None
    to_addr: str | None = None
    messaging_service_sid: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """What the raw webhook log keeps of every request, accepted or not."""

    kind: WebhookKind
    path: str
    verdict: Verdict
    body: str
    """The form exactly as it came (url-encoded): lossless, and cheaper to keep than a parsed copy."""
    headers: Mapping[str, str]
    received_at: datetime
    reason: str | None = None
    message_sid: str | None = None
    body_bytes: int | None = None
    """For a rejection, kept as a sample: the size of the body as it came, when known."""
    header_bytes: int | None = None
    """For a rejection, kept as a sample: the size of the request's headers as they came."""


@dataclass(frozen=True, slots=True)
class Contact:
    address: str
    profile_name: str | None
    wa_id: str | None
    last_inbound_at: datetime | None
    opted_out: bool
    opted_out_at: datetime | None
    opted_out_source: str | None


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    sid: str | None
    direction: Direction
    address: str
    from_addr: str | None
    to_addr: str | None
    body: str
    status: str
    error_code: int | None
    error_message: str | None
    message_type: str | None
    media: tuple[MediaRef, ...]
    location: Location | None
    button_text: str | None
    button_payload: str | None
    referral: Mapping[str, str]
    replied_to_sid: str | None
    content_sid: str | None
    content_variables: Mapping[str, str] | None
    created_at: datetime
    updated_at: datetime
    read_by_agent_at: datetime | None
    replied_to_body: str | None = None
    """The text of the message this one replies to, when that message is stored here; else None."""
    template_name: str | None = None
    """The name of the template at `content_sid`, while the synced templates still have it."""
    author: str | None = None
    """Who sent an outbound message: the agent's name, `system` for automatic replies, None for
    inbound messages and for outbound ones stored before agents had names."""


@dataclass(frozen=True, slots=True)
class Conversation:
    """One row of the inbox: a contact, its latest message and what the agent has not read."""

    contact: Contact
    last_message: Message | None
    unread_count: int
    """For the agent the list was read for (`list_conversations(agent=...)`), else anyone's."""
    window_expires_at: datetime | None
    status: str = "open"
    """A `domain.team.ConversationStatus` value."""
    assignee: str | None = None
    snoozed_until: datetime | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboundJob:
    """A queued outbound message as the sender sees it: what to send, and how far it got."""

    id: int
    address: str
    """The customer it goes to."""
    body: str
    media_urls: tuple[str, ...]
    content_sid: str | None
    content_variables: Mapping[str, str] | None
    opt_confirmation: bool
    created_at: datetime
    sending_started_at: datetime | None
    attempts: int
