"""Prometheus metrics: every metric wa-inbox exports, in one registry per running inbox.

One `Metrics` object per running inbox (`running.inbox` makes it and hands it to the receiver, the
sender and the media downloader), each with its own `CollectorRegistry`: a test process starts many
inboxes, and each one's counts stay its own. Parts started alone (an attached inbox's outbox,
`wa-inbox send`) are given none and count nothing: nobody would scrape them, and they never import
prometheus_client (tens of milliseconds at an inbox's start).

No label carries customer data: no address, SID, body or name; kinds, verdicts, reasons, results, HTTP
statuses and Twilio error codes only, each from a small set. Values read from the database (the
outbox's queue) are read when scraped, by the readers added with `on_scrape`.

Only `prometheus_client` is imported here, so that any layer may count without pulling in a framework.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

log = logging.getLogger(__name__)

disable_created_metrics()  # no `*_created` series beside each counter: nobody here reads them
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Content-Type of `Metrics.exposition`: Prometheus' text format 0.0.4, which `generate_latest`
writes and every Prometheus (2.x and 3.x) and compatible scraper reads; the library's own server
answers with it too unless asked for another."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; Twilio gives up on a webhook after 15 s."""
BATCH_BUCKETS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
"""Writes per commit; the SQLite writer commits at most 256 at once."""
NO_CODE = "none"
"""The `error_code` label of a send that carries no Twilio error code."""

ScrapeReader = Callable[[], Awaitable[None]]


class Metrics:
    """The metric objects of one running inbox, and what to read from the database when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._readers: list[ScrapeReader] = []
        r = self.registry
        self.webhooks = Webhooks()
        """The receiver's counts, kept as plain integers (see `Webhooks`)."""
        r.register(self.webhooks)
        self.commit_batches = Batches()
        """Writes per commit, as plain integers too: a commit is made every few webhooks."""
        r.register(self.commit_batches)
        self.outbox_messages = Gauge(
            "wa_inbox_outbox_messages",
            "Outbound messages not yet taken by Twilio, read from the database when scraped: pending "
            "(queued for the sender) and sending (a request may be in flight).",
            ("state",),
            registry=r,
        )
        self.outbox_oldest_pending_age = Gauge(
            "wa_inbox_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending outbound message was queued (0 when none waits).",
            registry=r,
        )
        self.event_backlog = Gauge(
            "wa_inbox_event_backlog",
            "Events of the Kafka stream written but not yet published, read from the database when "
            "scraped (0 with the stream off).",
            registry=r,
        )
        self.event_lag = Gauge(
            "wa_inbox_event_lag_seconds",
            "Seconds the oldest unpublished event has waited (0 when none waits).",
            registry=r,
        )
        self.sends = Counter(
            "wa_inbox_sends",
            "Outbound messages the sender finished with, by result (accepted, failed: Twilio refused "
            "it, gave_up: retries ran out, found: already at Twilio) and Twilio error code.",
            ("result", "error_code"),
            registry=r,
        )
        self.send_retries = Counter(
            "wa_inbox_send_retries",
            "Send attempts to be tried again, by reason (rate_limited: a 429, server_error: a 5xx, "
            "connect_error, no_answer).",
            ("reason",),
            registry=r,
        )
        self.twilio_requests = Counter(
            "wa_inbox_twilio_requests",
            "Requests to Twilio's REST API through the SDK, by method and HTTP status (429: rate "
            "limited; no_answer: none came).",
            ("method", "http_status"),
            registry=r,
        )
        self.refusals = Counter(
            "wa_inbox_refusals",
            "Outbound messages the policy refused before sending, by reason (shape, opt_out, window, "
            "template_not_approved, length, media, duplicate).",
            ("reason",),
            registry=r,
        )
        self.media_downloads = Counter(
            "wa_inbox_media_downloads",
            "Inbound media download tries, by result (downloaded, retry, gave_up, refused: not a "
            "Twilio URL).",
            ("result",),
            registry=r,
        )
        self.sender_lease_held = Gauge(
            "wa_inbox_sender_lease_held",
            "1 while this process holds the database's sender lease (it sends), else 0.",
            registry=r,
        )

    # --- what the parts report --------------------------------------------------------------------

    def observe_batch(self, writes: int) -> None:
        """A commit carried `writes` writes (a `Store.on_batch` listener)."""
        self.commit_batches.sizes.observe(writes)

    def sent(self, result: str, error_code: int | None = None) -> None:
        self.sends.labels(result, _code(error_code)).inc()

    def retried(self, reason: str) -> None:
        self.send_retries.labels(reason).inc()

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def twilio_answered(self, method: str, http_status: str) -> None:
        self.twilio_requests.labels(method, http_status).inc()

    def media_downloaded(self, result: str) -> None:
        self.media_downloads.labels(result).inc()

    def lease_held(self, held: bool) -> None:
        self.sender_lease_held.set(1 if held else 0)

    def set_outbox(
        self, pending: int, sending: int, oldest_pending_at: datetime | None, now: datetime
    ) -> None:
        """The outbox's queue as the database has it now."""
        self.outbox_messages.labels("pending").set(pending)
        self.outbox_messages.labels("sending").set(sending)
        age = (now - oldest_pending_at).total_seconds() if oldest_pending_at else 0.0
        self.outbox_oldest_pending_age.set(max(0.0, age))

    def set_event_backlog(self, pending: int, lag_seconds: float) -> None:
        """The event outbox as the database has it now."""
        self.event_backlog.set(pending)
        self.event_lag.set(max(0.0, lag_seconds))

    # --- the scrape ---------------------------------------------------------------------------------

    def on_scrape(self, reader: ScrapeReader) -> None:
        """Run `reader` before each scrape, to set gauges from a source (the database) read then.

        A reader that fails is logged and skipped: its gauges keep their last values.
        """
        self._readers.append(reader)

    async def exposition(self) -> bytes:
        """Every metric in Prometheus' text format, the readers run first."""
        for reader in self._readers:
            try:
                await reader()
            except Exception as error:
                log.warning("a metric could not be read for this scrape (%s); it keeps its last value", error)
        return generate_latest(self.registry)


def _code(error_code: int | None) -> str:
    return NO_CODE if error_code is None else str(error_code)


class Sums:
    """A histogram as plain numbers: observations per bucket (not cumulative; the last one above every
    bound, +Inf) and their sum. No lock: see `Webhooks`."""

    __slots__ = ("bounds", "buckets", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.buckets = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.buckets[bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, float]]:
        """Prometheus' buckets: each bound with every observation at or under it."""
        count, pairs = 0, []
        for bound, observed in zip((*self.bounds, float("inf")), self.buckets, strict=True):
            count += observed
            pairs.append((floatToGoString(bound), float(count)))
        return pairs


class WebhookTally:
    """One webhook kind's answers: a count per verdict and the acknowledged ones' latencies."""

    __slots__ = ("latency", "verdicts")

    def __init__(self, verdicts: Iterable[str]) -> None:
        self.verdicts = dict.fromkeys(verdicts, 0)
        self.latency = Sums(LATENCY_BUCKETS)

    def answered(self, verdict: str, seconds: float | None) -> None:
        """A request got its answer; `seconds` from its arrival, for an acknowledged one (else None)."""
        self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1
        if seconds is not None:
            self.latency.observe(seconds)


class Webhooks(Collector):
    """`wa_inbox_webhooks_total`, `wa_inbox_webhook_ingest_seconds` and `wa_inbox_message_statuses_total`
    as plain integers, made into metric families only when scraped.

    They change at every webhook, on the receiver's hot path: prometheus_client's counter and histogram
    take a lock at each change, about 1.5 µs a webhook here against 0.2 µs for these sums. The event
    loop is their only writer, and the scrape (an endpoint on the same loop) their only reader.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, WebhookTally] = {}
        self._statuses: dict[tuple[str, int | None], int] = {}

    def tally(self, kind: str, verdicts: Iterable[str]) -> WebhookTally:
        """The counts of webhooks of `kind`; each of `verdicts` is exported from 0 on."""
        return self._kinds.setdefault(kind, WebhookTally(verdicts))

    def status_reported(self, status: str, error_code: int | None) -> None:
        """A new status callback (not a retry of one) reported `status` with `error_code`."""
        key = (status, error_code)
        self._statuses[key] = self._statuses.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        answered = CounterMetricFamily(
            "wa_inbox_webhooks",
            "Webhook requests answered, by kind (inbound, status) and verdict (accepted, duplicate, "
            "forbidden, malformed, too_large).",
            labels=("kind", "verdict"),
        )
        latency = HistogramMetricFamily(
            "wa_inbox_webhook_ingest_seconds",
            "Seconds from a webhook's arrival to its acknowledgement (accepted and duplicate ones: "
            "after the commit).",
            labels=("kind",),
        )
        for kind, tally in self._kinds.items():
            for verdict, count in tally.verdicts.items():
                answered.add_metric((kind, str(verdict)), count)
            latency.add_metric((kind,), tally.latency.cumulative(), tally.latency.total)
        statuses = CounterMetricFamily(
            "wa_inbox_message_statuses",
            "Status callbacks taken (not Twilio's retries of one), by the status they report and its "
            "Twilio error code: how sent messages end (delivered, read, failed, undelivered, …).",
            labels=("status", "error_code"),
        )
        for (status, code), count in self._statuses.items():
            statuses.add_metric((status, _code(code)), count)
        yield from (answered, latency, statuses)


class Batches(Collector):
    """`wa_inbox_commit_batch_writes`: writes per commit, in `Sums` (a commit comes every few webhooks,
    on the event loop, like them)."""

    def __init__(self) -> None:
        self.sizes = Sums(BATCH_BUCKETS)

    def collect(self) -> Iterator[Metric]:
        sizes = HistogramMetricFamily(
            "wa_inbox_commit_batch_writes",
            "Writes per database commit (group commit: every write waiting shares one transaction).",
        )
        sizes.add_metric((), self.sizes.cumulative(), self.sizes.total)
        yield sizes
