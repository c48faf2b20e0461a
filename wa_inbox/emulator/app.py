"""The app factory: Twilio's REST paths, the Content and Services APIs, the control API, the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wa_inbox.emulator import api_content, api_control, api_messages, api_services
from wa_inbox.emulator.config import EmulatorConfig
from wa_inbox.emulator.emulator import Emulator
from wa_inbox.emulator.request_ids import RequestIds
from wa_inbox.emulator.resources import TwilioError, twilio_error_response

ACCOUNT = "/2010-04-01/Accounts/{account_sid}"
MESSAGE = ACCOUNT + "/Messages/{message_sid}"

ROUTES = [
    Route(f"{ACCOUNT}/Messages.json", api_messages.create_message, methods=["POST"]),
    Route(f"{ACCOUNT}/Messages.json", api_messages.list_messages, methods=["GET"]),
    Route(ACCOUNT + "/Messages/{sid}.json", api_messages.fetch_message, methods=["GET"]),
    Route(f"{MESSAGE}/Media.json", api_messages.list_media, methods=["GET"]),
    Route(MESSAGE + "/Media/{sid}.json", api_messages.fetch_media, methods=["GET"]),
    Route(MESSAGE + "/Media/{sid}", api_messages.media_content, methods=["GET"]),
    Route("/_emulator/media-cdn/{token}", api_messages.media_cdn, methods=["GET"]),
    Route("/v1/Content", api_content.list_content, methods=["GET"]),
    Route("/v1/Content/{sid}", api_content.fetch_content, methods=["GET"]),
    Route("/v1/Content/{sid}/ApprovalRequests", api_content.fetch_approvals, methods=["GET"]),
    Route("/v1/ContentAndApprovals", api_content.list_content_and_approvals, methods=["GET"]),
    Route("/v1/Services/{sid}", api_services.fetch_service, methods=["GET"]),
    Route("/v1/Services/{sid}", api_services.update_service, methods=["POST"]),
    Route("/_emulator/inbound", api_control.inbound, methods=["POST"]),
    Route("/_emulator/config", api_control.configure, methods=["POST"]),
    Route("/_emulator/fail-next", api_control.fail_next, methods=["POST"]),
    Route("/_emulator/sent", api_control.sent, methods=["GET"]),
    Route("/_emulator/deliveries", api_control.deliveries, methods=["GET"]),
    Route("/_emulator/opt-out", api_control.opt_out, methods=["POST"]),
    Route("/_emulator/chatter", api_control.chatter, methods=["POST"]),
    Route("/_emulator/template-verdict", api_control.template_verdict, methods=["POST"]),
    Route("/_emulator/service", api_control.service, methods=["POST"]),
]


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths answer like Twilio: error 20404 as JSON."""
    assert isinstance(exc, HTTPException)
    error = TwilioError(20404, f"The requested resource {request.url.path} was not found")
    return JSONResponse(error.body(), status_code=404)


def create_emulator(
    config: EmulatorConfig, callback_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """A fake Twilio as an ASGI app; `app.state.emulator` is its Emulator.

    callback_transport, if given, carries the webhooks (e.g. an ASGITransport to a receiver
    app in the same process). Webhooks and chatter run only while the lifespan is active.
    """
    emulator = Emulator(config, callback_transport=callback_transport)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await emulator.start()
        try:
            yield
        finally:
            await emulator.aclose()

    handlers = {TwilioError: twilio_error_response, 404: _not_found}
    ids = [Middleware(RequestIds, answered=emulator.answered)]  # Twilio-Request-Id on every answer
    app = Starlette(routes=ROUTES, lifespan=lifespan, exception_handlers=handlers, middleware=ids)
    app.state.emulator = emulator
    return app
