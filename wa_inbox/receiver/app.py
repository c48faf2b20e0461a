"""The webhook receiver's app factory: routes, and a lifespan that owns the store when asked to."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from wa_inbox.config import Settings
from wa_inbox.domain import medialinks
from wa_inbox.receiver.media import MediaLinks
from wa_inbox.receiver.webhooks import WebhookEndpoints
from wa_inbox.store import Store, open_store

log = logging.getLogger("wa_inbox.receiver")


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """Build the receiver. Without `store`, the app opens and closes the configured database itself."""
    settings.require_receiver()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.webhooks.validate_signatures:
            log.warning("Webhook signatures are NOT checked: anyone can post to this receiver.")
        if store is not None:
            app.state.store = store
            yield
            return
        app.state.store = await open_store(settings.store.path)
        try:
            yield
        finally:
            await app.state.store.close()

    endpoints = WebhookEndpoints(settings)
    routes = [
        Route(settings.webhooks.inbound_path, endpoints.inbound, methods=["POST"]),
        Route(settings.webhooks.status_path, endpoints.status, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if key := settings.media_link_key():
        routes.append(Route(medialinks.ROUTE, MediaLinks(key).serve, methods=["GET"]))
    return Starlette(routes=routes, lifespan=lifespan)


async def healthz(request: Request) -> PlainTextResponse:
    """200 only while a real commit succeeds: a load balancer must not send webhooks we would lose."""
    if await request.app.state.store.check_writable():
        return PlainTextResponse("ok")
    return PlainTextResponse("database is not writable", status_code=503)
