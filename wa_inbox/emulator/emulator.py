"""The Emulator: one fake Twilio account's behaviour, shared by its routes, tests and the demo.

It owns the World, the random source, the webhook client and every background task. The
coroutines (customer_says, sent, fail_next, …) are the in-process control surface; the plain
methods after them serve the HTTP routes.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import logging
import mimetypes
import random
import re
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from wa_inbox.emulator.callbacks import WebhookSender
from wa_inbox.emulator.config import EmulatorConfig
from wa_inbox.emulator.customers import Chatter
from wa_inbox.emulator.inbound import Inbound, InboundMedia, Location
from wa_inbox.emulator.lifecycle import plan
from wa_inbox.emulator.request_ids import Answered, answer_log
from wa_inbox.emulator.resources import TwilioError, iso8601, message_uri, new_sid, status_params
from wa_inbox.emulator.state import FailSpec, Media, Message, Service, World
from wa_inbox.emulator.validation import FormParams, OutboundRequest, parse_create, whatsapp_e164

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
ARRAY_PARAMS = frozenset({"MediaUrl", "PersistentAction"})
"""Create parameters the spec declares as arrays; sent() always lists their values."""
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_FIXED_SERVICE_FIELDS = {"sid", "account_sid", "date_created", "date_updated"}
SERVICE_FIELDS = frozenset(f.name for f in fields(Service)) - _FIXED_SERVICE_FIELDS
"""What the Messaging Services API (and configure_service) may change."""


def _now() -> datetime:
    return datetime.now(UTC)


def channel_address(address: str) -> str:
    """'whatsapp:+E164' from either that or a bare '+E164'; ValueError for anything else."""
    normalised = address if address.startswith("whatsapp:") else f"whatsapp:{address}"
    if not whatsapp_e164(normalised):
        raise ValueError(f"not a WhatsApp address with a valid E.164 number: {address!r}")
    return normalised


class Emulator:
    """A fake Twilio account: REST resources, signed webhooks, customers and scripted failures."""

    def __init__(
        self, config: EmulatorConfig, *, callback_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.world = World()
        self._rng = random.Random(config.seed)
        self._transport = callback_transport
        self._webhooks: WebhookSender | None = None
        self._channel_install_sid = new_sid("XE", self._rng)
        self._tasks: set[asyncio.Task[None]] = set()
        self._chatter = Chatter(self._rng, self.customer_says)
        self._chatter_task: asyncio.Task[None] | None = None
        self.answered: collections.deque[Answered] = answer_log()
        """The REST API's latest answers with their `Twilio-Request-Id`, newest last."""

    async def start(self) -> None:
        """Open the webhook client (called by the app's lifespan)."""
        client = httpx.AsyncClient(transport=self._transport, timeout=15.0)
        self._webhooks = WebhookSender(self.config.auth_token, client, self._rng)

    async def aclose(self) -> None:
        """Cancel chatter and pending callbacks, then close the webhook client."""
        await self.stop_chatter()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._webhooks is not None:
            await self._webhooks.aclose()
            self._webhooks = None

    # -- in-process control surface ---------------------------------------------------------

    async def customer_says(
        self,
        from_addr: str,
        body: str = "",
        *,
        media: list[tuple[bytes, str]] | None = None,
        location: Location | None = None,
        button: tuple[str, str] | None = None,
        referral: dict[str, Any] | None = None,
        profile_name: str | None = None,
    ) -> str:
        """A customer writes in: store it, open their window, post the signed webhook."""
        sender, url = self._sender(), self._inbound_url()
        address = channel_address(from_addr)
        body = body or (button[0] if button else "")
        message, stored = self._store_inbound(address, body, media or [])
        self._apply_keywords(address, body)
        announced = [InboundMedia(self._media_url(m), m.content_type) for m in stored]
        form = Inbound(message, announced, profile_name, location, button, referral).params()
        await sender.deliver("inbound", url, form, self.config.duplicate_rate)
        return message.sid

    async def sent(self) -> list[dict[str, Any]]:
        """Every authenticated create request: params as received, auth user, outcome."""
        return copy.deepcopy(self.world.sent_log)

    async def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook attempt: kind, url, params, and the receiver's status code or error."""
        return copy.deepcopy(self._sender().log)

    async def fail_next(
        self,
        code: int,
        *,
        http_status: int | None = None,
        via: Literal["api", "callback"] = "api",
        times: int = 1,
    ) -> None:
        """Make the next `times` sends fail with code, synchronously or by status callback."""
        self.world.queue_failure(via, FailSpec(code, http_status, times))

    async def opt_out(self, address: str) -> None:
        """The customer opted out: sends to them answer 21610 until they say START."""
        self.world.opted_out.add(channel_address(address))

    async def set_last_inbound(self, address: str, when: datetime) -> None:
        """Pretend the customer last wrote at `when` (naive means UTC), to seed windows."""
        aware = when if when.tzinfo else when.replace(tzinfo=UTC)
        self.world.last_inbound[channel_address(address)] = aware

    async def start_chatter(self, interval: float) -> None:
        """Simulated customers write in about every `interval` seconds until stop_chatter."""
        self._inbound_url()
        await self.stop_chatter()
        self._chatter_task = asyncio.create_task(self._chatter.run(interval))

    async def stop_chatter(self) -> None:
        task, self._chatter_task = self._chatter_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Return once every scheduled status transition and callback has happened."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def judge_template(self, name: str, status: str, reason: str = "") -> None:
        """WhatsApp changes its verdict on a template (pauses it, say); sends and the Content API follow."""
        self.world.judge_template(name, status, reason)

    async def configure_service(self, sid: str, **changes: Any) -> None:
        """Change a Messaging Service as the console would (a wrong inbound URL, say)."""
        self.update_service(sid, changes)

    async def configure(self, **changes: Any) -> EmulatorConfig:
        """Change settings at run time (e.g. duplicate_rate); returns the new config."""
        self.config = replace(self.config, **changes)
        return self.config

    # -- serving the REST routes ------------------------------------------------------------

    async def in_transit(self) -> None:
        """The latency of a message create (`create_delay`), before the emulator acts on it."""
        low, high = self.config.create_delay
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high))

    def create_message(self, form: FormParams, auth_user: str) -> Message:
        """Handle POST Messages.json, logging request and outcome for sent()."""
        entry: dict[str, Any] = {"at": iso8601(_now()), "auth_user": auth_user}
        entry["params"] = _as_received(form)
        self.world.sent_log.append(entry)
        try:
            message = self._create(form)
        except TwilioError as err:
            entry["outcome"] = {"status": err.status, "code": err.code, "message": err.message}
            raise
        entry["outcome"] = {"status": 201, "sid": message.sid}
        return message

    def service(self, sid: str) -> Service:
        """Any well-formed MG SID names a service, with the configured webhooks until changed."""
        if not SERVICE_SID.fullmatch(sid):
            raise TwilioError(20404, f"The requested resource /v1/Services/{sid} was not found")
        if sid not in self.world.services:
            config, now = self.config, _now()
            hooks = (config.inbound_url, config.status_callback_url)
            self.world.services[sid] = Service(sid, config.account_sid, *hooks, now, now)
        return self.world.services[sid]

    def update_service(self, sid: str, changes: Mapping[str, Any]) -> Service:
        """Apply `changes` (Service field names); KeyError for a field that cannot be changed."""
        service = self.service(sid)
        if unknown := set(changes) - SERVICE_FIELDS:
            raise KeyError(f"not a changeable Messaging Service field: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(service, name, value)
        service.date_updated = _now()
        return service

    def media_location(self, message_sid: str, sid: str) -> str:
        """Where GET …/Media/{sid} redirects: an expiring CDN URL, or the outbound source."""
        media = self.world.one_media(message_sid, sid)
        if self.world.lagging(media, self.config.media_delay_misses):
            raise TwilioError(20404, f"The requested resource Media {sid} was not found")
        if media.data is None:
            return media.source_url or ""
        token = self.world.cdn_token(media, _now())
        return f"{self.config.public_url.rstrip('/')}/_emulator/media-cdn/{token}"

    # -- internals --------------------------------------------------------------------------

    def _create(self, form: FormParams) -> Message:
        scripted = self.world.take_failure("api")
        if scripted is not None:
            raise TwilioError(scripted.code, status=scripted.http_status)
        request = parse_create(form, self.config.sender, self.world.templates)
        if request.to in self.world.opted_out:
            raise TwilioError(21610)
        message = self._store_outbound(request)
        failure = self._failure_for(request)
        self._spawn(self._run_statuses(message, failure, self._status_url(request)))
        return message

    def _status_url(self, request: OutboundRequest) -> str | None:
        """The request's StatusCallback, else its Messaging Service's, as Twilio falls back."""
        service = request.messaging_service_sid
        return request.status_callback or (self.service(service).status_callback if service else None)

    def _failure_for(self, request: OutboundRequest) -> int | None:
        """A scripted callback failure, else 63016 for session sends to a closed window."""
        scripted = self.world.take_failure("callback")
        if scripted is not None:
            return scripted.code
        if self.world.window_open(request.to, _now()):
            return None
        template = request.template
        return None if template is not None and template.approved else 63016

    def _store_outbound(self, request: OutboundRequest) -> Message:
        now, sid, service = _now(), new_sid("SM", self._rng), request.messaging_service_sid
        message = Message(
            sid=sid,
            account_sid=self.config.account_sid,
            direction="outbound-api",
            from_=request.from_,
            to=request.to,
            body=request.body,
            status="accepted" if service else "queued",
            date_created=now,
            date_updated=now,
            messaging_service_sid=service,
            num_media=1 if request.media_url else 0,
            num_segments=0 if service else 1,
        )
        media = [self._outbound_media(sid, request.media_url, now)] if request.media_url else []
        self.world.add(message, media)
        return message

    def _outbound_media(self, parent_sid: str, url: str, now: datetime) -> Media:
        content_type = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
        sid = new_sid("ME", self._rng)
        return Media(sid, parent_sid, self.config.account_sid, content_type, now, source_url=url)

    def _store_inbound(
        self, address: str, body: str, media: Sequence[tuple[bytes, str]]
    ) -> tuple[Message, list[Media]]:
        """Record the message and its media, and (re)open the customer's window."""
        now, account = _now(), self.config.account_sid
        sid = new_sid("MM" if media else "SM", self._rng)
        message = Message(
            sid=sid,
            account_sid=account,
            direction="inbound",
            from_=address,
            to=self.config.sender,
            body=body,
            status="received",
            date_created=now,
            date_updated=now,
            num_media=len(media),
            date_sent=now,
        )
        stored = [Media(new_sid("ME", self._rng), sid, account, ct, now, data) for data, ct in media]
        self.world.add(message, stored)
        self.world.last_inbound[address] = now
        return message, stored

    def _apply_keywords(self, address: str, body: str) -> None:
        """Advanced Opt-Out: a lone STOP-style word opts out, START-style opts back in."""
        if not self.config.advanced_opt_out:
            return
        word = body.strip().upper()
        if word in STOP_WORDS:
            self.world.opted_out.add(address)
        elif word in START_WORDS:
            self.world.opted_out.discard(address)

    async def _run_statuses(self, message: Message, failure: int | None, url: str | None) -> None:
        """Walk the message through its statuses, posting a callback for each."""
        held: list[dict[str, str]] = []
        for step in plan(failure, self._rng.random() < self.config.read_rate):
            await asyncio.sleep(self._rng.uniform(*self.config.status_delay))
            message.advance(step.status, step.error_code, _now())
            held.append(status_params(message, self._channel_install_sid))
            if not self.config.reorder:
                await self._deliver_status(url, held.pop())
        self._rng.shuffle(held)
        for params in held:
            await self._deliver_status(url, params)

    async def _deliver_status(self, url: str | None, params: dict[str, str]) -> None:
        if url is not None:
            await self._sender().deliver("status", url, params, self.config.duplicate_rate)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("status callbacks stopped", exc_info=task.exception())

    def _media_url(self, media: Media) -> str:
        base = self.config.public_url.rstrip("/")
        return f"{base}{message_uri(media.account_sid, media.parent_sid)}/Media/{media.sid}"

    def _inbound_url(self) -> str:
        if self.config.inbound_url is None:
            raise RuntimeError("EmulatorConfig.inbound_url is not set: nowhere to post to")
        return self.config.inbound_url

    def _sender(self) -> WebhookSender:
        if self._webhooks is None:
            raise RuntimeError("the emulator is not running: use it inside its app's lifespan")
        return self._webhooks


def _as_received(form: FormParams) -> dict[str, str | list[str]]:
    """Single values as strings; array parameters (and repeated keys) as lists."""
    return {k: list(v) if k in ARRAY_PARAMS or len(v) > 1 else v[0] for k, v in form.items()}
