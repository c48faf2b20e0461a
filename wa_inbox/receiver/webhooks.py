"""The two Twilio webhook endpoints: read, check the signature, parse, commit, then acknowledge.

With the event stream on (`[events]`), the webhook's event (`domain.events`) is committed with it, in
the event outbox; the relay publishes it later, so the acknowledgement never waits for Kafka.

This is the hot path of the product: every status callback of every message passes here, so each
step is the cheapest correct one. Each endpoint is a raw ASGI app (Starlette's request and response
objects and its router cost more than everything below them but the database), with one HMAC, our
own form parser and one group-committed write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.types import Receive, Scope, Send

from wa_inbox.config import Settings
from wa_inbox.domain.events import inbound_event, status_event
from wa_inbox.domain.models import Form, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.webhooks import MalformedWebhook, parse_inbound, parse_status
from wa_inbox.logs import TurnLines, fields_wanted
from wa_inbox.metrics import Metrics
from wa_inbox.receiver.connections import REFUSED
from wa_inbox.receiver.forms import parse_form
from wa_inbox.receiver.rejections import RejectionLog, sample
from wa_inbox.receiver.signature import SignatureChecker
from wa_inbox.receiver.slot import StoreSlot
from wa_inbox.store import Store

log = logging.getLogger("wa_inbox.receiver")

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_LOGGED_KEYS = ("MessageSid", "From", "To", "MessagingServiceSid", "MessageStatus", "ErrorCode")
_FIELD_NAMES = ("message_sid", "from", "to", "messaging_service_sid", "status", "error_code")
"""The names of `_LOGGED_KEYS` as a JSON log line's fields."""
_LOGGED_LENGTH = 64
"""Characters of each field a rejection's log line shows: a forger chooses their length."""
_CLOSE = (b"connection", b"close")


class Rejected(Exception):
    """A request we refuse, with the HTTP status and the reason the raw log keeps."""

    def __init__(self, status: int, verdict: Verdict, reason: str) -> None:
        super().__init__(reason)
        self.status, self.verdict, self.reason = status, verdict, reason


@dataclass(slots=True)
class Received:
    """One request as far as it was read: the raw log keeps it whatever happens next."""

    kind: WebhookKind
    path: str
    headers: dict[str, str]
    received_at: datetime
    body: str = ""
    size: int | None = None
    """The body's size in bytes, as read (or as declared, for one refused unread)."""
    form: Form | None = None

    def record(self, verdict: Verdict, reason: str | None = None) -> WebhookRecord:
        return WebhookRecord(
            self.kind, self.path, verdict, self.body, self.headers, self.received_at, reason, self._sid()
        )

    def sample(self, rejection: Rejected, raw_headers: list[tuple[bytes, bytes]]) -> WebhookRecord:
        """A rejection as the raw log keeps it: cut to a few kilobytes, with the sizes that came."""
        return sample(
            self.kind,
            self.path,
            rejection.verdict,
            rejection.reason,
            self.received_at,
            self.body,
            self.size,
            self.headers,
            raw_headers,
            self._sid(),
        )

    def _sid(self) -> str | None:
        return (self.form or {}).get("MessageSid", [None])[0]


def _length(body: bytes) -> tuple[bytes, bytes]:
    return b"content-length", b"%d" % len(body)


@dataclass(frozen=True, slots=True)
class Reply:
    """What we answer Twilio: the status, then the body with its headers."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def text(cls, status: int, text: str, close: bool = False) -> Reply:
        """`close` for a request whose body was left unread: the connection cannot carry another."""
        body = text.encode()
        headers = ((b"content-type", b"text/plain; charset=utf-8"), _length(body))
        return cls(status, body, (*headers, _CLOSE) if close else headers)


TWIML_ACK = Reply(200, EMPTY_TWIML, ((b"content-type", b"text/xml; charset=utf-8"), _length(EMPTY_TWIML)))
STATUS_ACK = Reply(204)
Ingest = Callable[[Store, Received, Form], Awaitable[Verdict]]


class WebhookEndpoint:
    """One webhook path as a raw ASGI app; `kind` says which parser and which store write it uses."""

    def __init__(
        self,
        kind: WebhookKind,
        settings: Settings,
        slot: StoreSlot,
        rejections: RejectionLog,
        metrics: Metrics,
    ) -> None:
        self._kind = kind
        self._slot = slot
        self._rejections = rejections
        self._base_url = settings.twilio.public_base_url or ""
        token = settings.webhook_auth_token
        checking = settings.webhooks.validate_signatures and token is not None
        self._checker = SignatureChecker(token.get_secret_value()) if checking and token else None
        self._max_body = settings.webhooks.max_body_bytes
        self._opt = settings.opt
        self._keywords = settings.opt.keywords()
        inbound = kind is WebhookKind.INBOUND
        events = settings.events
        self._event_topic = (
            (events.inbound_topic if inbound else events.status_topic) if events.enabled else None
        )
        """Where this path's events go; None when the event stream is off (no event is built)."""
        self._ingest: Ingest = self._ingest_inbound if inbound else self._ingest_status
        self._ack = TWIML_ACK if inbound else STATUS_ACK
        self._accepted_lines = TurnLines(log)
        self._webhooks = metrics.webhooks
        self._tally = metrics.webhooks.tally(kind, Verdict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        store = self._slot.store
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        received = Received(self._kind, scope["path"], headers, datetime.now(UTC))
        reason, logged = None, True
        try:
            if "extensions" in scope:
                _refused_early(scope)
            form = await self._receive(receive, received)
            self._check_signature(scope, received, form)
            verdict = await self._ingest(store, received, form)
            reply = self._ack
        except (MalformedWebhook, Rejected) as error:
            rejection = _as_rejection(error)
            verdict, reason = rejection.verdict, rejection.reason
            logged = self._rejections.admit(_source(scope), reason)
            if logged:  # else answered and counted, but neither stored nor logged on a line of its own
                await store.log_rejection(received.sample(rejection, scope["headers"]))
            reply = Reply.text(rejection.status, rejection.reason, close=rejection.status in (413, 431))
        await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
        await send({"type": "http.response.body", "body": reply.body})
        seconds = time.perf_counter() - started
        self._tally.answered(verdict, seconds if reason is None else None)  # timed when acknowledged
        if logged:
            _log(self._accepted_lines, received, verdict, reason, seconds)

    async def _ingest_inbound(self, store: Store, received: Received, form: Form) -> Verdict:
        message = parse_inbound(form)
        action = self._keywords.classify(message.body)
        confirmations = {"stop": self._opt.stop_confirmation, "start": self._opt.start_confirmation}
        confirmation = confirmations.get(action) if action else None
        topic = self._event_topic
        event = inbound_event(message, form, received.received_at, topic) if topic else None
        record = received.record(Verdict.ACCEPTED)
        new = await store.ingest_inbound(message, record, action, confirmation, event)
        return Verdict.ACCEPTED if new else Verdict.DUPLICATE

    async def _ingest_status(self, store: Store, received: Received, form: Form) -> Verdict:
        update, topic = parse_status(form), self._event_topic
        event = status_event(update, form, received.received_at, topic) if topic else None
        if not await store.ingest_status(update, received.record(Verdict.ACCEPTED), event):
            return Verdict.DUPLICATE
        self._webhooks.status_reported(update.status, update.error_code)
        return Verdict.ACCEPTED

    async def _receive(self, receive: Receive, received: Received) -> Form:
        raw = await _read_capped(receive, received, self._max_body)
        received.size = len(raw)
        try:
            received.body = raw.decode("utf-8")
        except UnicodeDecodeError:
            received.body = raw.decode("latin-1")
            raise Rejected(400, Verdict.MALFORMED, "body is not UTF-8") from None
        received.form = parse_form(received.body)
        return received.form

    def _check_signature(self, scope: Scope, received: Received, form: Form) -> None:
        if self._checker is None:
            return
        signature = received.headers.get("x-twilio-signature")
        if signature is None:
            raise Rejected(403, Verdict.FORBIDDEN, "X-Twilio-Signature header is missing")
        if not self._checker.is_valid(self._signed_url(scope), form, signature):
            raise Rejected(403, Verdict.FORBIDDEN, "X-Twilio-Signature does not match")

    def _signed_url(self, scope: Scope) -> str:
        """The URL exactly as Twilio called it: the public base, then the raw path and query."""
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        return f"{self._base_url}{path}?{query}" if query else f"{self._base_url}{path}"


def _refused_early(scope: Scope) -> None:
    """A request whose head was over the limits reaches us unread: refuse it (see `connections`)."""
    refused = scope["extensions"].get(REFUSED)
    if refused is not None:
        raise Rejected(431, Verdict.TOO_LARGE, refused["reason"])


def _source(scope: Scope) -> str:
    """The address a request came from (the proxy's client, when uvicorn trusts its headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _as_rejection(error: MalformedWebhook | Rejected) -> Rejected:
    if isinstance(error, Rejected):
        return error
    return Rejected(400, Verdict.MALFORMED, str(error))


def _log(
    accepted_lines: TurnLines, received: Received, verdict: Verdict, reason: str | None, seconds: float
) -> None:
    """One structured line per request: the fields that identify it ("-" when absent), never a secret;
    the same fields go with it (for a JSON log), absent ones as null.

    A rejection is logged at once as a warning; accepted webhooks share a record per loop turn.
    """
    accepted = verdict in (Verdict.ACCEPTED, Verdict.DUPLICATE)
    if not log.isEnabledFor(logging.INFO if accepted else logging.WARNING):
        return
    form = received.form or {}
    length = None if accepted else _LOGGED_LENGTH
    sid, from_, to, service, status, error = [_log_value(form.get(key), length) for key in _LOGGED_KEYS]
    line = (
        f"{received.kind} verdict={verdict} sid={sid} from={from_} to={to} service={service}"
        f" status={status} error={error} latency_ms={seconds * 1000:.2f}"
    )
    fields = _fields(received, verdict, length, seconds) if fields_wanted() else None
    if accepted:
        accepted_lines.add(line, fields)
    else:
        log.warning(f"{line} reason={reason!r}", extra={**(fields or {}), "reason": reason})


def _fields(received: Received, verdict: Verdict, length: int | None, seconds: float) -> dict[str, object]:
    """The line's values as a JSON log's fields (absent ones as null, none quoted): built only for a
    JSON log, where they cost as much again as the line."""
    form = received.form or {}
    fields: dict[str, object] = {
        name: _cut(form.get(key), length) for name, key in zip(_FIELD_NAMES, _LOGGED_KEYS, strict=True)
    }
    fields.update(kind=str(received.kind), verdict=str(verdict), latency_ms=round(seconds * 1000, 2))
    return fields


def _log_value(values: list[str] | None, length: int | None) -> str:
    """A value as is, or quoted when it could break the line (a forged request chooses its values);
    cut at `length` characters, then marked with an ellipsis, for a request that is not Twilio's.
    (`_cut` in a line of its own: a call less per field, on the hot path.)"""
    if not values:
        return "-"
    value = values[0]
    if length is not None and len(value) > length:
        value = value[:length] + "…"
    return value if value.isprintable() and " " not in value else repr(value)


def _cut(values: list[str] | None, length: int | None) -> str | None:
    """A field's first value, cut at `length` characters, then marked with an ellipsis, for a request
    that is not Twilio's (a forger chooses its lengths); None when absent."""
    if not values:
        return None
    value = values[0]
    return value[:length] + "…" if length is not None and len(value) > length else value


async def _read_capped(receive: Receive, received: Received, limit: int) -> bytes:
    declared = received.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()) or len(declared) > 18:
            raise Rejected(400, Verdict.MALFORMED, "Content-Length is not a number")
        if int(declared) > limit:
            received.size = int(declared)
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Rejected(400, Verdict.MALFORMED, "the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            received.size = size  # at least: the rest is never read
            raise _too_large(limit)
        if not message.get("more_body", False):
            return b"".join([*chunks, chunk]) if chunks else chunk
        chunks.append(chunk)


def _too_large(limit: int) -> Rejected:
    return Rejected(413, Verdict.TOO_LARGE, f"body is larger than {limit} bytes")
