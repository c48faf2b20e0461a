"""GET /metrics: the running inbox's Prometheus metrics, on the receiver's port or on one of their own.

What is counted, and under which names, is `wa_inbox.metrics`; here is only how a scrape is answered
and what it reads from the store first (the outbox's queue and the event stream's backlog, as the
database has them then).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wa_inbox.config import METRICS_PATH
from wa_inbox.domain.clock import utc_now
from wa_inbox.metrics import CONTENT_TYPE, Metrics
from wa_inbox.store import Store


class MetricsPage:
    """The endpoint: every metric in Prometheus' text format, the store's gauges read first."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def serve(self, request: Request) -> Response:
        return Response(await self._metrics.exposition(), media_type=CONTENT_TYPE)


async def read_outbox(store: Store, metrics: Metrics) -> None:
    """The outbox's queue (pending, sending, the oldest pending one's age) into its gauges."""
    depth = await store.outbox_depth()
    metrics.set_outbox(depth.pending, depth.sending, depth.oldest_pending_at, utc_now())


async def read_event_backlog(store: Store, metrics: Metrics) -> None:
    """The event outbox's backlog (unpublished events, the oldest one's wait) into its gauges."""
    backlog = await store.event_backlog()
    metrics.set_event_backlog(backlog.pending, backlog.lag(utc_now()).total_seconds())


def metrics_app(metrics: Metrics) -> Starlette:
    """`/metrics` alone, for `[metrics] port`: a port a firewall can keep to the monitoring host."""
    return Starlette(routes=[Route(METRICS_PATH, MetricsPage(metrics).serve, methods=["GET"])])
