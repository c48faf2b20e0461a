"""The webhook receiver's app factory: routes, and a lifespan that owns the store when asked to."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from wa_inbox.config import METRICS_PATH, Settings
from wa_inbox.domain import medialinks
from wa_inbox.domain.models import WebhookKind
from wa_inbox.metrics import Metrics
from wa_inbox.receiver.connections import REFUSED
from wa_inbox.receiver.media import MediaLinks
from wa_inbox.receiver.metrics import MetricsPage, read_event_backlog, read_outbox
from wa_inbox.receiver.rejections import RejectionLog
from wa_inbox.receiver.slot import StoreSlot
from wa_inbox.receiver.webhooks import WebhookEndpoint
from wa_inbox.store import Store, open_store

log = logging.getLogger("wa_inbox.receiver")


class Receiver:
    """Starlette for everything, except that a POST to a webhook path goes straight to its endpoint.

    Webhooks are nearly all the traffic, and Starlette's middleware and router cost them more than
    their signature check; every other request (health, media links, wrong methods) takes the
    ordinary route, where the webhook paths are registered too.
    """

    def __init__(self, app: Starlette, webhooks: dict[str, ASGIApp]) -> None:
        self._app = app
        self._webhooks = webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["method"] == "POST":
                endpoint = self._webhooks.get(scope["path"])
                if endpoint is not None:
                    return await endpoint(scope, receive, send)
            if REFUSED in scope.get("extensions", ()):  # its head was over the limits; not a webhook
                reason = scope["extensions"][REFUSED]["reason"]
                response = PlainTextResponse(reason, 431, {"connection": "close"})
                return await response(scope, receive, send)
        await self._app(scope, receive, send)


def create_app(settings: Settings, store: Store | None = None, metrics: Metrics | None = None) -> Receiver:
    """Build the receiver. Without `store`, the app opens and closes the configured database itself.

    It counts into `metrics` (a new `Metrics` when None) and serves them at `/metrics` unless
    `[metrics]` turns that off or gives them a port of their own (`running.inbox` serves that one).
    Either way it reads the outbox's queue from its store at each scrape and counts the store's
    commits (`Store.on_batch`) once the store is open.
    """
    settings.require_receiver()
    slot = StoreSlot(store)
    metrics = metrics or Metrics()
    metrics.on_scrape(lambda: read_outbox(slot.store, metrics))
    metrics.on_scrape(lambda: read_event_backlog(slot.store, metrics))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.webhooks.validate_signatures:
            log.warning("Webhook signatures are NOT checked: anyone can post to this receiver.")
        if store is not None:
            store.on_batch(metrics.observe_batch)
            _freeze_start_up_heap()
            yield
            return
        slot.store = await open_store(settings.store.path)
        slot.store.on_batch(metrics.observe_batch)
        _freeze_start_up_heap()
        try:
            yield
        finally:
            await slot.store.close()

    rejections = RejectionLog()
    webhooks: dict[str, ASGIApp] = {
        path: WebhookEndpoint(kind, settings, slot, rejections, metrics)
        for path, kind in (
            (settings.webhooks.inbound_path, WebhookKind.INBOUND),
            (settings.webhooks.status_path, WebhookKind.STATUS),
        )
    }
    routes = [Route(path, endpoint, methods=["POST"]) for path, endpoint in webhooks.items()]
    routes.append(Route("/healthz", Health(slot).check, methods=["GET"]))
    if settings.metrics.enabled and settings.metrics.port is None:
        routes.append(Route(METRICS_PATH, MetricsPage(metrics).serve, methods=["GET"]))
    if key := settings.media_link_key():
        routes.append(Route(medialinks.ROUTE, MediaLinks(key, slot).serve, methods=["GET"]))
    return Receiver(Starlette(routes=routes, lifespan=lifespan), webhooks)


def _freeze_start_up_heap() -> None:
    """Exempt what start-up allocated (the twilio SDK, phonenumbers' tables, Starlette, ...) from the
    cyclic garbage collector: none of it is garbage, and each full collection walked all of it with
    the event loop stopped, 30 to 50 ms under load, which made most of the receiver's p99 latency."""
    gc.freeze()


class Health:
    """GET /healthz: 200 only while a real commit succeeds, so a load balancer never sends us webhooks we
    would lose."""

    def __init__(self, slot: StoreSlot) -> None:
        self._slot = slot

    async def check(self, request: Request) -> PlainTextResponse:
        if await self._slot.store.check_writable():
            return PlainTextResponse("ok")
        return PlainTextResponse("database is not writable", status_code=503)
