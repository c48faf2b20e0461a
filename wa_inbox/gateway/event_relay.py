"""The event relay: publishes the event outbox (`Store.pending_events`) to Kafka, at least once, in order.

Each webhook's event was committed with the webhook itself (see `domain.events`), so the receiver's
acknowledgement never waits for Kafka, and nothing is lost when the broker is away or this process
dies. The relay reads the pending events oldest first, sends them keyed by the customer's address with
the `idempotency-key` header, waits for the broker's acknowledgement (`acks=all`, the idempotent
producer unless turned off) and only then marks them published. A crash between the two publishes them
again: a duplicate a consumer drops by its idempotency key, never a loss. Kafka keeps one customer's
events in order because they share a key (one partition), and the producer keeps one request in flight
per broker.

While the broker is away, each failed round counts a try on its events (`doctor` shows the backlog and
the error), closes the producer and waits, doubling from `backoff_first` to `backoff_max`; the log says
so once when publishing stops and once when it resumes, never once per try (the Kafka client's own
per-try lines are silenced for that reason).

Only one process publishes a database's events: `may_publish` says whether this one may now (see
`running.inbox`: the process holding the sender lease). Another process's relay stands by.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context

from wa_inbox.config import EventSettings
from wa_inbox.domain.events import IDEMPOTENCY_HEADER, PendingEvent
from wa_inbox.store import Store

log = logging.getLogger(__name__)

BATCH = 200
"""Events per round: read, sent and marked together."""
ERROR_CHARS = 200
"""Of an error's text, what a log line shows."""

MayPublish = Callable[[], Awaitable[bool]]
"""Whether this process may publish now (it is the one that publishes this database's events)."""


@dataclass(frozen=True, slots=True)
class RelayTiming:
    """How often the relay looks for work and how it waits on a broker that is away (tests shorten it)."""

    poll: float = 1.0
    """Between looks for events committed by other processes (this one's commits wake it at once),
    and for whether this process may publish."""
    backoff_first: float = 0.5
    """The wait after the first failed round; each next one doubles it."""
    backoff_max: float = 30.0
    """The longest wait between two rounds while the broker is away."""
    request_timeout: float = 15.0
    """A broker that has not acknowledged a request within this long fails the round."""


DEFAULT_TIMING = RelayTiming()


class BrokerUnavailable(Exception):
    """A round could not publish (all or part of) its events: the broker refused or did not answer."""


class _State(Enum):
    STARTING = "starting"
    STANDING_BY = "standing by"
    PUBLISHING = "publishing"
    BROKER_AWAY = "broker away"
    STORE_AWAY = "store away"


class EventRelay:
    """The outbox's one publisher for this process: `run` until cancelled."""

    def __init__(
        self,
        settings: EventSettings,
        store: Store,
        may_publish: MayPublish,
        timing: RelayTiming = DEFAULT_TIMING,
    ) -> None:
        if settings.kafka_bootstrap is None:
            raise ValueError("the event relay needs [events] kafka_bootstrap")
        self._settings = settings
        self._bootstrap = settings.kafka_bootstrap
        self._store = store
        self._may_publish = may_publish
        self._timing = timing
        self._producer: AIOKafkaProducer | None = None
        self._state = _State.STARTING
        self._backoff = timing.backoff_first
        self._wake = asyncio.Event()
        store.on_commit(lambda _seq: self._wake.set())

    async def run(self) -> None:
        """Publish while this process may, until cancelled; the producer is closed on the way out."""
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # see the module's docstring
        try:
            while True:
                await self._round()
        finally:
            await self._close_producer()

    async def _round(self) -> None:
        """One look: stand by, idle, or publish a batch (and back off when the broker is away)."""
        if not await self._our_turn():
            self._enter(_State.STANDING_BY)
            await self._close_producer()
            await asyncio.sleep(self._timing.poll)
            return
        self._wake.clear()  # before the read: a commit after it wakes the wait below
        try:
            events = await self._store.pending_events(BATCH)
        except Exception as error:  # a busy or failing database: the next look tries again
            self._enter(_State.STORE_AWAY, error)
            await asyncio.sleep(self._timing.poll)
            return
        if not events:
            self._enter(_State.PUBLISHING)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._timing.poll)
            return
        await self._publish_or_back_off(events)

    async def _our_turn(self) -> bool:
        try:
            return await self._may_publish()
        except Exception as error:
            self._enter(_State.STORE_AWAY, error)
            return False

    async def _publish_or_back_off(self, events: Sequence[PendingEvent]) -> None:
        try:
            await self.publish(events)
        except BrokerUnavailable as error:
            self._enter(_State.BROKER_AWAY, error.__cause__ or error)
            await self._close_producer()  # a fresh one next round: a restarted broker knows no old one
            await asyncio.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, self._timing.backoff_max)
            return
        except Exception as error:  # marking failed: the events are published again later
            self._enter(_State.STORE_AWAY, error)
            await asyncio.sleep(self._timing.poll)
            return
        self._backoff = self._timing.backoff_first
        self._enter(_State.PUBLISHING)

    async def publish(self, events: Sequence[PendingEvent]) -> None:
        """Send `events` in order and mark those the broker acknowledged; `BrokerUnavailable` (after
        counting the try on the rest) when it did not acknowledge them all."""
        try:
            async with asyncio.timeout(self._timing.request_timeout * 2):
                producer = await self._started_producer()
                results = await self._send_all(producer, events)
        except (KafkaError, OSError, TimeoutError) as error:
            await self._store.record_event_failure([e.id for e in events], _describe(error))
            raise BrokerUnavailable(_describe(error)) from error
        acked = [e.id for e, result in zip(events, results, strict=True) if result is None]
        failures = [(e.id, result) for e, result in zip(events, results, strict=True) if result is not None]
        await self._store.mark_events_published(acked)
        if failures:
            first = failures[0][1]
            await self._store.record_event_failure([event_id for event_id, _ in failures], _describe(first))
            raise BrokerUnavailable(_describe(first)) from first

    async def _send_all(
        self, producer: AIOKafkaProducer, events: Sequence[PendingEvent]
    ) -> list[BaseException | None]:
        """Queue every event in order, then wait for each acknowledgement; None for an acknowledged
        event, else the error that refused it."""
        deliveries = []
        for pending in events:
            event = pending.event
            header = (IDEMPOTENCY_HEADER, event.idempotency_key.encode())
            deliveries.append(
                await producer.send(
                    event.topic, event.payload.encode(), key=event.key.encode(), headers=[header]
                )
            )
        outcomes = await asyncio.gather(*deliveries, return_exceptions=True)
        return [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes]

    async def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self._settings, self._timing)
            try:
                await producer.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        """Stop the producer (if any) without waiting on a broker that is away."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._timing.request_timeout):
                await producer.stop()

    def _enter(self, state: _State, error: BaseException | None = None) -> None:
        """Say each change of state once: the log is read by people, not counted by tries."""
        if state is self._state:
            return
        before, self._state = self._state, state
        where = f"Kafka at {self._bootstrap}"
        if state is _State.PUBLISHING:
            again = " again" if before in (_State.BROKER_AWAY, _State.STORE_AWAY) else ""
            log.info("publishing events to %s%s", where, again)
        elif state is _State.STANDING_BY:
            log.info("events: standing by; the process holding the sender lease publishes them")
        elif state is _State.BROKER_AWAY:
            log.warning(
                "cannot publish events to %s (%s): they wait in the database, retried at most %g s apart",
                where,
                _describe(error),
                self._timing.backoff_max,
            )
        else:
            log.warning(
                "the event relay cannot use the database (%s); trying again shortly", _describe(error)
            )


def make_producer(settings: EventSettings, timing: RelayTiming = DEFAULT_TIMING) -> AIOKafkaProducer:
    """A producer for `settings`: every broker acknowledges (`acks=all`), idempotent unless turned off."""
    password = settings.sasl_password.get_secret_value() if settings.sasl_password else None
    tls = settings.security_protocol in ("SSL", "SASL_SSL")
    options = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": "wa-inbox",
        "acks": "all",
        "enable_idempotence": settings.idempotent_producer,
        "request_timeout_ms": int(timing.request_timeout * 1000),
        "security_protocol": settings.security_protocol,
        "ssl_context": create_ssl_context(cafile=settings.ssl_cafile) if tls else None,
    }
    if settings.sasl_mechanism is not None:
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": password,
        }
    return AIOKafkaProducer(**options)


def _describe(error: BaseException | None) -> str:
    """An error in a few words for the log and the outbox: its kind and its text, cut short."""
    if error is None:
        return "unknown error"
    kind, text = type(error).__name__, str(error).strip()
    described = text if text.startswith(kind) else f"{kind}: {text}" if text else kind
    return described if len(described) <= ERROR_CHARS else described[: ERROR_CHARS - 1] + "…"
