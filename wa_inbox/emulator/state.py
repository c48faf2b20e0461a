"""The in-memory world of one fake Twilio account: messages, media, windows, opt-outs, failures,
templates and Messaging Services.

Plain data and synchronous queries only; timing, HTTP and randomness live elsewhere, so this is
the one place to look when asking "what does the emulator believe right now?".
"""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from wa_inbox.emulator.resources import TwilioError, error_message
from wa_inbox.emulator.templates import TEMPLATES, Template

WINDOW = timedelta(hours=24)
"""WhatsApp's customer service window, reopened by every inbound message."""
CDN_TTL = timedelta(hours=4)
"""How long a redirected media URL stays valid (Twilio: 4 hours)."""
Via = Literal["api", "callback"]


@dataclass
class Message:
    """One message, inbound or outbound, as Twilio stores it."""

    sid: str
    account_sid: str
    direction: str
    from_: str
    to: str
    body: str
    status: str
    date_created: datetime
    date_updated: datetime
    messaging_service_sid: str | None = None
    num_media: int = 0
    num_segments: int = 1
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    price: str | None = None
    seq: int = 0

    @property
    def sent_at(self) -> datetime:
        """What DateSent filters compare: date_sent, or creation while still queued."""
        return self.date_sent or self.date_created

    def advance(self, status: str, error_code: int | None, now: datetime) -> None:
        """Move to status; 'sent' stamps date_sent, a price and a real segment count."""
        self.status = status
        self.date_updated = now
        if status == "sent":
            self.date_sent, self.price, self.num_segments = now, "-0.00500", 1
        if error_code is not None:
            self.error_code, self.error_message = error_code, error_message(error_code)


@dataclass
class Media:
    """A media item of a message: bytes for customer media, a source URL for outbound media."""

    sid: str
    parent_sid: str
    account_sid: str
    content_type: str
    date_created: datetime
    data: bytes | None = None
    source_url: str | None = None


@dataclass
class FailSpec:
    """A scripted failure waiting for the next create request(s)."""

    code: int
    http_status: int | None
    times: int


@dataclass
class Service:
    """A Messaging Service: where Twilio posts its inbound messages and, by default, status callbacks."""

    sid: str
    account_sid: str
    inbound_request_url: str | None
    status_callback: str | None
    date_created: datetime
    date_updated: datetime
    friendly_name: str = "WhatsApp inbox"
    inbound_method: str = "POST"
    fallback_url: str | None = None
    fallback_method: str = "POST"
    use_inbound_webhook_on_number: bool = False


def parse_when(raw: str) -> date | datetime:
    """A DateSent bound: YYYY-MM-DD, ISO 8601 (what the SDK sends) or RFC 2822."""
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            when = parsedate_to_datetime(raw)
    except (ValueError, TypeError) as exc:
        raise TwilioError(20001, f"Invalid DateSent value: {raw}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _day(bound: date | datetime) -> date:
    return bound.date() if isinstance(bound, datetime) else bound


@dataclass(frozen=True)
class MessageFilter:
    """The list filters of GET Messages.json; date-only bounds compare days, inclusive."""

    to: str | None = None
    from_: str | None = None
    on: date | datetime | None = None
    before: date | datetime | None = None
    after: date | datetime | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> MessageFilter:
        dates = {
            name: parse_when(query[key]) if query.get(key) else None
            for name, key in (("on", "DateSent"), ("before", "DateSent<"), ("after", "DateSent>"))
        }
        return cls(to=query.get("To"), from_=query.get("From"), **dates)

    def matches(self, m: Message) -> bool:
        return (
            self.to in (None, m.to)
            and self.from_ in (None, m.from_)
            and (self.on is None or m.sent_at.date() == _day(self.on))
            and (self.before is None or _compare(m.sent_at, self.before) <= 0)
            and (self.after is None or _compare(m.sent_at, self.after) >= 0)
        )


def _compare(sent: datetime, bound: date | datetime) -> int:
    """-1, 0 or 1 as sent is before, at or after bound (whole days for a date bound)."""
    if isinstance(bound, datetime):
        return (sent > bound) - (sent < bound)
    day = sent.date()
    return (day > bound) - (day < bound)


class World:
    """Everything the emulated account holds; every mutation goes through a method here."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.media: dict[str, list[Media]] = {}
        self.opted_out: set[str] = set()
        self.last_inbound: dict[str, datetime] = {}
        self.sent_log: list[dict[str, Any]] = []
        self._failures: dict[Via, deque[FailSpec]] = {"api": deque(), "callback": deque()}
        self._cdn: dict[str, tuple[Media, datetime]] = {}
        self._fetches: dict[str, int] = {}
        self._seq = itertools.count()
        self.templates: dict[str, Template] = {t.sid: t for t in TEMPLATES}
        self.services: dict[str, Service] = {}

    def add(self, message: Message, media: Sequence[Media] = ()) -> None:
        message.seq = next(self._seq)
        self.messages[message.sid] = message
        self.media[message.sid] = list(media)

    def message(self, sid: str) -> Message:
        if sid not in self.messages:
            raise TwilioError(20404, f"The requested resource Message {sid} was not found")
        return self.messages[sid]

    def media_of(self, message_sid: str) -> list[Media]:
        return self.media[self.message(message_sid).sid]

    def one_media(self, message_sid: str, sid: str) -> Media:
        for media in self.media_of(message_sid):
            if media.sid == sid:
                return media
        raise TwilioError(20404, f"The requested resource Media {sid} was not found")

    def query(self, flt: MessageFilter) -> list[Message]:
        """Matching messages, newest first (Twilio's list order)."""
        found = [m for m in self.messages.values() if flt.matches(m)]
        return sorted(found, key=lambda m: (m.date_created, m.seq), reverse=True)

    def queue_failure(self, via: Via, spec: FailSpec) -> None:
        self._failures[via].append(spec)

    def take_failure(self, via: Via) -> FailSpec | None:
        """The next scripted failure for via, used up one time per call."""
        queue = self._failures[via]
        if not queue:
            return None
        spec = queue[0]
        spec.times -= 1
        if spec.times <= 0:
            queue.popleft()
        return spec

    def template(self, sid: str) -> Template:
        if sid not in self.templates:
            raise TwilioError(20404, f"The requested resource /v1/Content/{sid} was not found")
        return self.templates[sid]

    def judge_template(self, name: str, status: str, reason: str = "") -> Template:
        """WhatsApp changes its verdict on the template called `name`; KeyError if there is none."""
        found = [t for t in self.templates.values() if t.friendly_name == name]
        if not found:
            raise KeyError(f"no template named {name!r}")
        judged = self.templates[found[0].sid] = found[0].judged(status, reason)
        return judged

    def window_open(self, address: str, now: datetime) -> bool:
        last = self.last_inbound.get(address)
        return last is not None and now - last < WINDOW

    def lagging(self, media: Media, misses: int) -> bool:
        """Count a fetch of media; True for the first `misses` of them (it is "not there yet")."""
        self._fetches[media.sid] = self._fetches.get(media.sid, 0) + 1
        return self._fetches[media.sid] <= misses

    def cdn_token(self, media: Media, now: datetime) -> str:
        """An unguessable token for the unauthenticated, expiring media URL."""
        token = secrets.token_urlsafe(24)
        self._cdn[token] = (media, now + CDN_TTL)
        return token

    def cdn_media(self, token: str, now: datetime) -> Media | None:
        media, expires = self._cdn.get(token, (None, now))
        return media if now < expires else None
