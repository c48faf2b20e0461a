"""The two Twilio webhook endpoints: read, check the signature, parse, commit, then acknowledge.

This is the hot path of the product: every status callback of every message passes here, so each
step is the cheapest correct one (one HMAC, our own form parser, one group-committed write).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from wa_inbox.config import Settings
from wa_inbox.domain.models import Form, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.webhooks import MalformedWebhook, parse_inbound, parse_status
from wa_inbox.receiver.forms import parse_form
from wa_inbox.receiver.signature import SignatureChecker
from wa_inbox.store import Store

log = logging.getLogger("wa_inbox.receiver")

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_LOGGED_FIELDS = (
    ("sid", "MessageSid"),
    ("from", "From"),
    ("to", "To"),
    ("service", "MessagingServiceSid"),
    ("status", "MessageStatus"),
    ("error", "ErrorCode"),
)


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
    form: Form | None = None

    def record(self, verdict: Verdict, reason: str | None = None) -> WebhookRecord:
        sid = (self.form or {}).get("MessageSid", [None])[0]
        return WebhookRecord(
            self.kind, self.path, verdict, self.body, self.headers, self.received_at, reason, sid
        )


Outcome = tuple[Response, Verdict]


class WebhookEndpoints:
    """Holds what both endpoints share: settings and the signature checker; the store is the app's."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._base_url = settings.twilio.public_base_url or ""
        token = settings.webhook_auth_token
        checking = settings.webhooks.validate_signatures and token is not None
        self._checker = SignatureChecker(token.get_secret_value()) if checking and token else None
        self._max_body = settings.webhooks.max_body_bytes
        self._keywords = settings.opt.keywords()

    async def inbound(self, request: Request) -> Response:
        return await self._handle(request, WebhookKind.INBOUND, self._ingest_inbound)

    async def status(self, request: Request) -> Response:
        return await self._handle(request, WebhookKind.STATUS, self._ingest_status)

    async def _ingest_inbound(self, store: Store, received: Received, form: Form) -> Outcome:
        message = parse_inbound(form)
        action = self._keywords.classify(message.body)
        opt = self._settings.opt
        confirmation = {"stop": opt.stop_confirmation, "start": opt.start_confirmation}.get(action or "")
        new = await store.ingest_inbound(message, received.record(Verdict.ACCEPTED), action, confirmation)
        return Response(EMPTY_TWIML, media_type="text/xml"), _verdict(new)

    async def _ingest_status(self, store: Store, received: Received, form: Form) -> Outcome:
        update = parse_status(form)
        new = await store.ingest_status(update, received.record(Verdict.ACCEPTED))
        return Response(status_code=204), _verdict(new)

    async def _handle(
        self,
        request: Request,
        kind: WebhookKind,
        ingest: Callable[[Store, Received, Form], Awaitable[Outcome]],
    ) -> Response:
        started = time.perf_counter()
        store: Store = request.app.state.store
        received = Received(kind, request.scope["path"], dict(request.headers), datetime.now(UTC))
        reason = None
        try:
            form = await self._receive(request, received)
            self._check_signature(request, received, form)
            response, verdict = await ingest(store, received, form)
        except (MalformedWebhook, Rejected) as error:
            rejection = _as_rejection(error)
            await store.log_rejection(received.record(rejection.verdict, rejection.reason))
            response = Response(rejection.reason, status_code=rejection.status, media_type="text/plain")
            verdict, reason = rejection.verdict, rejection.reason
        _log(received, verdict, reason, time.perf_counter() - started)
        return response

    async def _receive(self, request: Request, received: Received) -> Form:
        raw = await _read_capped(request, self._max_body)
        try:
            received.body = raw.decode("utf-8")
        except UnicodeDecodeError:
            received.body = raw.decode("latin-1")
            raise Rejected(400, Verdict.MALFORMED, "body is not UTF-8") from None
        received.form = parse_form(received.body)
        return received.form

    def _check_signature(self, request: Request, received: Received, form: Form) -> None:
        if self._checker is None:
            return
        signature = received.headers.get("x-twilio-signature")
        if signature is None:
            raise Rejected(403, Verdict.FORBIDDEN, "X-Twilio-Signature header is missing")
        if not self._checker.is_valid(self._signed_url(request), form, signature):
            raise Rejected(403, Verdict.FORBIDDEN, "X-Twilio-Signature does not match")

    def _signed_url(self, request: Request) -> str:
        """The URL exactly as Twilio called it: the public base, then the raw path and query."""
        scope = request.scope
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        return f"{self._base_url}{path}?{query}" if query else f"{self._base_url}{path}"


def _verdict(new: bool) -> Verdict:
    return Verdict.ACCEPTED if new else Verdict.DUPLICATE


def _as_rejection(error: MalformedWebhook | Rejected) -> Rejected:
    if isinstance(error, Rejected):
        return error
    return Rejected(400, Verdict.MALFORMED, str(error))


def _log(received: Received, verdict: Verdict, reason: str | None, seconds: float) -> None:
    """One structured line per request: the fields that identify it, never a secret."""
    level = logging.INFO if verdict in (Verdict.ACCEPTED, Verdict.DUPLICATE) else logging.WARNING
    if not log.isEnabledFor(level):
        return
    form = received.form or {}
    fields = " ".join(f"{name}={form[key][0]}" for name, key in _LOGGED_FIELDS if form.get(key))
    because = f" reason={reason!r}" if reason else ""
    log.log(level, f"{received.kind} verdict={verdict} {fields} latency_ms={seconds * 1000:.2f}{because}")


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Rejected(413, Verdict.TOO_LARGE, f"body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, Verdict.TOO_LARGE, f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
