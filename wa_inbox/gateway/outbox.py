"""The outbox: a send is stored first, then delivered to Twilio by a sender task.

The rule that keeps a customer from getting the same message twice lives here:

    A request whose outcome is unknown (a timeout or dropped connection after it was sent, a 5xx,
    or a crash between the request and the stored answer) is never simply sent again. First the
    sender asks Twilio for recent messages to that recipient; one created since the attempt began,
    with the same body (for a template: any we do not know yet), is adopted as ours. Only when none
    is found is the message sent again.

Rows are marked `sending`, durably, before the request leaves, so a crash leaves that trace for
the next sender to resolve the same way.

One sender per database: only the holder of the sender lease (`gateway.lease`) claims and sends,
and each claim records the lease it was made under. A sender that finds the lease held stands by;
when it takes the lease (given back, or expired because its holder died), it resolves what the
ended lease left `sending` by the rule above. Another live sender's messages in flight are never
taken for a crash's leftovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from aiolimiter import AsyncLimiter
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from wa_inbox.config import Settings
from wa_inbox.domain.addresses import country_of
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.errors import describe
from wa_inbox.domain.lease import Lease
from wa_inbox.domain.models import Message, OutboundJob
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Attachment, Draft, Refusal, why_refused
from wa_inbox.gateway.lease import DEFAULT_TIMING, Leadership, LeaseKeeper, LeaseLost, LeaseTiming, new_owner
from wa_inbox.gateway.submission import Submitter, report_refusal
from wa_inbox.store import Store

if TYPE_CHECKING:
    from wa_inbox.metrics import Metrics

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
"""How often the sender looks for work queued by another process (an attached TUI, the CLI)."""
OUTCOME_POLL_SECONDS = 0.2
"""How often `send_now` looks for the outcome of a message another process is sending."""
LOOKBACK = timedelta(minutes=2)
"""Clock skew allowed between us and Twilio when matching a message we may have sent."""


@dataclass(frozen=True, slots=True)
class _Accepted:
    sid: str
    status: str
    from_addr: str | None
    messaging_service_sid: str | None


@dataclass(frozen=True, slots=True)
class _Definite:
    code: int | None
    message: str


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    ambiguous: bool
    """True when the request may have reached Twilio, so a lookup must come before a resend."""
    kind: str
    """What went wrong, as the retry metric names it: rate_limited, server_error, connect_error,
    no_answer."""


class Outbox:
    """Accepts drafts (policy first) and delivers queued messages, at most `rate_per_second` per sender."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: Client,
        clock: Callable[[], datetime] = utc_now,
        on_template_error: Callable[[int], Awaitable[None]] | None = None,
        lease: LeaseTiming = DEFAULT_TIMING,
        owner: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`on_template_error(code)` runs when Twilio refuses a template with a code that may mean
        our copy of the templates is stale (the runtime re-syncs them). `lease` times the sender
        lease; `owner` is this sender's id in it (default: `new_owner()`, like `wa-inbox@host:pid.tag`).
        Sends, retries, refusals and the lease's hold are counted into `metrics`, if given."""
        self._settings = settings
        self._metrics = metrics
        self._store = store
        self._client = client
        self._clock = clock
        self._on_template_error = on_template_error
        self._limits = settings.limits()
        self._limiters: dict[str, AsyncLimiter] = {}
        self._wake = asyncio.Event()
        self.submitter = Submitter(settings, store, clock, queued=self._wake.set, metrics=metrics)
        """Accepts drafts for this process's sender (the policy, then the queue)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._keeper = LeaseKeeper(store, owner or new_owner(), lease, metrics=metrics)
        self._fenced = False
        """True while this outbox sends as the lease holder: each request then waits for `sendable`."""
        self.leadership = Leadership()
        """Held while this outbox holds the sender lease: the duties only one replica runs follow it."""
        self._cut_off = 0
        """Requests cancelled before Twilio answered, since the lease was taken."""

    @property
    def owner(self) -> str:
        """This sender's id in the sender lease: `store.sender_lease()` with this `owner` is this process."""
        return self._keeper.owner

    @property
    def holds_sender_lease(self) -> bool:
        """This process's sender holds the lease now (as last granted): it is the database's sender."""
        return self._keeper.lease is not None

    @property
    def client(self) -> Client:
        """The Twilio client the sender uses (the template picker reads the Content API with it)."""
        return self._client

    # --- accepting --------------------------------------------------------------------------------

    async def submit(self, draft: Draft, idempotency_key: str | None = None) -> int:
        """Queue `draft` if Twilio would take it, else raise `Refused`; returns the message id. The
        sender in this process wakes at once."""
        return await self.submitter.submit(draft, idempotency_key)

    # --- delivering -------------------------------------------------------------------------------

    async def run(self) -> None:
        """The sender task, until cancelled: stand by until this process holds the sender lease, resolve
        what an ended lease left `sending`, then deliver queued messages while the lease holds."""
        try:
            while True:
                lease = await self._keeper.acquire()
                self._cut_off = 0
                await self._hold(lease)
        finally:
            await self._stop_deliveries()
            await self._give_back()

    async def _hold(self, lease: Lease) -> None:
        """Send as the holder of `lease`; returns when the lease is lost (all deliveries stopped)."""
        heartbeat = asyncio.create_task(self._keeper.keep(), name="wa-inbox-sender-lease")
        sending = asyncio.create_task(self._send_as(lease), name="wa-inbox-sender-claims")
        self._fenced = True
        self.leadership.gained()
        try:
            await asyncio.wait((heartbeat, sending), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (heartbeat, sending):
                task.cancel()
            await asyncio.gather(heartbeat, sending, return_exceptions=True)
            await self._stop_deliveries()
            self._fenced = False
            self.leadership.lost()
        lost = heartbeat.exception() if heartbeat.done() and not heartbeat.cancelled() else None
        if lost is None:  # not expected: `_send_as` keeps going through database errors
            crash = sending.exception() if sending.done() and not sending.cancelled() else None
            log.error("the sender stopped; its lease is left to expire", exc_info=crash)
            self._keeper.let_expire()
            return
        log.warning("stopped sending (%s); standing by for the sender lease", lost)

    async def _send_as(self, lease: Lease) -> None:
        """Recovery, then the claim loop, under `lease`."""
        while True:
            try:
                stranded = await self._store.take_over_sending(lease)
                break
            except Exception:
                log.exception("the sender could not read the outbox; trying again shortly")
                await asyncio.sleep(POLL_SECONDS)
        for job in stranded:
            log.info("recovering message %s (left `sending` by a sender whose lease ended)", job.id)
            self._start(self._recover_one(job))
        while True:
            try:
                jobs = await self._claim(lease)
            except Exception:  # the database is briefly unavailable: keep the sender alive
                log.exception("the sender could not read the outbox; trying again shortly")
                jobs = []
            for job in jobs:
                self._start(self.deliver(job))
            if not jobs:
                await self._idle()

    async def _claim(self, lease: Lease) -> list[OutboundJob]:
        free = self._settings.outbox.concurrency - len(self._tasks)
        return await self._store.claim_unsent(free, lease=lease) if free > 0 else []

    async def _stop_deliveries(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _give_back(self) -> None:
        """Give the lease back, unless a request was cut off before Twilio answered: then the lease
        expires in its time, so that no successor looks for that message before Twilio has it."""
        lease = self._keeper.lease
        if lease is None:
            return
        if self._cut_off:
            log.warning(
                "%d request(s) to Twilio were cut off unanswered: the sender lease is left to expire"
                " (at %s) before another sender looks them up",
                self._cut_off,
                lease.expires_at.astimezone().isoformat(timespec="seconds"),
            )
            self._keeper.let_expire()
            return
        try:
            await self._keeper.release()
        except Exception as error:
            log.warning("could not give the sender lease back (%s); it expires in its time", error)

    async def send_now(self, message_id: int) -> None:
        """Deliver one queued message from this process (`wa-inbox send`), outcome recorded on return.

        Only the sender lease's holder sends. When nobody holds it, this process takes it for this
        one message and gives it back. When a running `wa-inbox serve` (or inbox) holds it, that
        sender claims the message, and only the shared database tells us how it went.
        """
        outbox = self._settings.outbox
        deadline = asyncio.get_running_loop().time() + outbox.request_timeout_seconds * outbox.max_attempts
        while True:
            message = await self._store.get_message_by_id(message_id)
            if _settled(message):
                return
            if message is not None and message.status == "pending" and await self._send_one(message_id):
                return
            if asyncio.get_running_loop().time() >= deadline:
                return
            await asyncio.sleep(OUTCOME_POLL_SECONDS)

    async def _send_one(self, message_id: int) -> bool:
        """Take the lease if it is free, claim `message_id` and deliver it; False if either was taken."""
        lease = await self._keeper.try_acquire()
        if lease is None:
            return False
        self._cut_off = 0
        heartbeat = asyncio.create_task(self._keeper.keep(), name="wa-inbox-sender-lease")
        try:
            jobs = await self._store.claim_unsent(1, message_id, lease)
            if not jobs:
                return False
            self._fenced = True
            await self.deliver(jobs[0])
            return True
        finally:
            self._fenced = False
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            await self._give_back()

    async def deliver(self, job: OutboundJob) -> None:
        """Send one claimed message, retrying only what is safe to retry; records the outcome."""
        outbox = self._settings.outbox
        deadline = self._clock() + timedelta(seconds=outbox.max_retry_seconds)
        last: _Retry | None = None
        for attempt in range(outbox.max_attempts):
            if attempt:
                await self._back_off(attempt, deadline)
            if last is not None and last.ambiguous:
                found = await self._look_up(job)
                if found:
                    return
                if found is None:
                    continue  # Twilio could not be asked: still unknown, so no resend yet
            async with self._limiter(job):
                if refusal := await self._late_refusal(job):  # checked as late as possible
                    report_refusal(self._metrics, job.address, refusal.kind, refusal.sentence, job.id)
                    await self._store.record_failed(job.id, None, refusal.sentence)
                    return
                if self._fenced:
                    await self._keeper.until_sendable()  # LeaseLost: the next holder resolves it
                outcome = await self._counted_attempt(job)
            if not isinstance(outcome, _Retry):
                await self._settle(job, outcome)
                return
            if self._metrics:
                self._metrics.retried(outcome.kind)
            log.warning("message %s: %s (attempt %d)", job.id, outcome.reason, attempt + 1)
            last = outcome
            if self._clock() >= deadline:
                break
        await self._give_up(job, last)

    async def _give_up(self, job: OutboundJob, last: _Retry | None) -> None:
        if last is not None and last.ambiguous:
            found = await self._look_up(job)
            if found is None:
                log.error("message %s: unknown whether Twilio has it; left for recovery", job.id)
                return
            if found:
                return
        reason = last.reason if last else "no attempt was made"
        await self._store.record_failed(
            job.id, None, f"Twilio did not take the message ({reason}); it was not sent."
        )
        self._count_send("gave_up")

    # --- one request --------------------------------------------------------------------------------

    async def _counted_attempt(self, job: OutboundJob) -> _Accepted | _Definite | _Retry:
        try:
            return await self._attempt(job)
        except asyncio.CancelledError:
            self._cut_off += 1
            raise

    async def _attempt(self, job: OutboundJob) -> _Accepted | _Definite | _Retry:
        try:
            message = await self._client.messages.create_async(**self._create_params(job))
        except TwilioRestException as error:
            return _classify(error)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            return _Retry(
                f"could not connect to Twilio ({type(error).__name__})", ambiguous=False, kind="connect_error"
            )
        except httpx.TransportError as error:
            return _Retry(f"no answer from Twilio ({type(error).__name__})", ambiguous=True, kind="no_answer")
        return _Accepted(message.sid, message.status, message.from_, message.messaging_service_sid)

    def _create_params(self, job: OutboundJob) -> dict[str, Any]:
        name, sender = self._sender(job)
        params: dict[str, Any] = {"to": job.address, name: sender}
        if self._settings.twilio.public_base_url:
            params["status_callback"] = (
                self._settings.twilio.public_base_url + self._settings.webhooks.status_path
            )
        if job.content_sid:
            params["content_sid"] = job.content_sid
            if job.content_variables:
                params["content_variables"] = json.dumps(job.content_variables, ensure_ascii=False)
            return params
        if job.body:
            params["body"] = job.body
        if job.media_urls:
            params["media_url"] = list(job.media_urls)
        return params

    def _sender(self, job: OutboundJob) -> tuple[str, str]:
        """The Messaging Service for the recipient's country, else the default one, else the From."""
        routing, twilio = self._settings.routing, self._settings.twilio
        country = country_of(job.address)
        service = routing.get(country or "") or routing.get("default") or twilio.messaging_service_sid
        if service:
            return "messaging_service_sid", service
        assert twilio.from_address is not None  # require_sender made sure
        return "from_", twilio.from_address

    def _limiter(self, job: OutboundJob) -> AsyncLimiter:
        """A token bucket per sender, holding a tenth of a second's worth so bursts stay small."""
        key = self._sender(job)[1]
        if key not in self._limiters:
            rate = self._settings.outbox.rate_per_second
            burst = max(1.0, rate / 10)
            self._limiters[key] = AsyncLimiter(burst, burst / rate)
        return self._limiters[key]

    async def _settle(self, job: OutboundJob, outcome: _Accepted | _Definite) -> None:
        if isinstance(outcome, _Accepted):
            await self._store.record_accepted(
                job.id, outcome.sid, outcome.status, outcome.from_addr, outcome.messaging_service_sid
            )
            self._count_send("accepted")
            return
        self._count_send("failed", outcome.code)
        info = describe(outcome.code)
        if info is not None and info.marks_opted_out and not job.opt_confirmation:
            # Not for our own STOP confirmation: a START may have come in while it was refused.
            await self._store.set_opt_state(job.address, OptAction.STOP, f"twilio error {info.code}")
        await self._store.record_failed(job.id, outcome.code, info.meaning if info else outcome.message)
        if info is not None and info.template_problem and job.content_sid and self._on_template_error:
            await self._on_template_error(info.code)

    # --- never a blind double send ---------------------------------------------------------------------

    async def _adopt(self, job: OutboundJob) -> bool:
        """Apply the module's rule: find this message at Twilio and make it ours. True if found."""
        since = (job.sending_started_at or job.created_at) - LOOKBACK
        candidates = [
            m
            for m in await self._client.messages.list_async(to=job.address, limit=50)
            if m.date_created is not None
            and m.date_created >= since
            and str(m.direction).startswith("outbound")
        ]
        claimed = await self._store.claimed_sids([m.sid for m in candidates])
        unknown = sorted((m for m in candidates if m.sid not in claimed), key=lambda m: m.date_created)
        match = next((m for m in unknown if job.content_sid or m.body == job.body), None)
        if match is None:
            return False
        log.info("message %s was already at Twilio as %s; not sending it again", job.id, match.sid)
        await self._store.record_accepted(
            job.id, match.sid, match.status, match.from_, match.messaging_service_sid
        )
        self._count_send("found")
        return True

    async def _look_up(self, job: OutboundJob) -> bool | None:
        """`_adopt`, or None when Twilio cannot be asked right now."""
        try:
            return await self._adopt(job)
        except (TwilioRestException, httpx.TransportError) as error:
            log.warning("message %s: cannot ask Twilio whether it has it (%s)", job.id, error)
            return None

    async def _recover_one(self, job: OutboundJob) -> None:
        found = await self._look_up(job)
        if found is False:
            await self.deliver(job)
        elif found is None:
            log.error("message %s: left `sending` until Twilio can be asked (next start)", job.id)

    # --- plumbing ---------------------------------------------------------------------------------------

    async def _late_refusal(self, job: OutboundJob) -> Refusal | None:
        """Re-check at send time: the customer may have sent STOP since the draft was queued."""
        if job.opt_confirmation:
            return None  # the STOP confirmation is the one message an opted-out customer may get
        media = tuple(Attachment(url) for url in job.media_urls)
        body = "" if job.content_sid else job.body  # a template's stored body is only its preview
        draft = Draft(job.address, body, media, job.content_sid, job.content_variables or {})
        contact = await self._store.get_contact(job.address)
        return why_refused(draft, contact, self._clock(), self._limits)

    def _count_send(self, result: str, error_code: int | None = None) -> None:
        if self._metrics:
            self._metrics.sent(result, error_code)

    async def _back_off(self, attempt: int, deadline: datetime) -> None:
        """Exponential backoff with full jitter, never past the deadline."""
        ceiling = min(30.0, self._settings.outbox.backoff_base_seconds * 2**attempt)
        left = max(0.0, (deadline - self._clock()).total_seconds())
        await asyncio.sleep(min(left, random.uniform(0, ceiling)))

    def _start(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()
        error = None if task.cancelled() else task.exception()
        if isinstance(error, LeaseLost):
            log.warning("a message is left `sending` for the next lease holder: %s", error)
        elif error is not None:
            log.error("the sender failed on a message", exc_info=error)

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POLL_SECONDS):
                await self._wake.wait()
        self._wake.clear()


def _settled(message: Message | None) -> bool:
    """Twilio took it (it has a SID) or it failed: the sender is done with it."""
    return message is None or message.sid is not None or message.status == "failed"


def _classify(error: TwilioRestException) -> _Definite | _Retry:
    """429 is safe to resend; a 5xx may have been processed; any other answer is final."""
    if error.status == 429 or error.code == 20429:
        return _Retry("Twilio is rate-limiting requests (429)", ambiguous=False, kind="rate_limited")
    if error.status >= 500:
        return _Retry(f"Twilio answered {error.status}", ambiguous=True, kind="server_error")
    return _Definite(error.code, error.msg)
