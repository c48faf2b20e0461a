"""Routes at the Messaging API's paths (messaging.twilio.com/v1): a Messaging Service and its webhooks.

Only what a Messaging Service tells about webhooks is modelled: where inbound messages and status
callbacks go, and with which method. Fetch and update answer the whole resource, as Twilio does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wa_inbox.emulator.resources import TwilioError, service_json
from wa_inbox.emulator.validation import FormParams
from wa_inbox.emulator.web import authenticate, emulator_of, read_form

_PARAMS = {
    "FriendlyName": "friendly_name",
    "InboundRequestUrl": "inbound_request_url",
    "InboundMethod": "inbound_method",
    "FallbackUrl": "fallback_url",
    "FallbackMethod": "fallback_method",
    "StatusCallback": "status_callback",
    "UseInboundWebhookOnNumber": "use_inbound_webhook_on_number",
}
"""Update parameters that change what the emulator models; Twilio's others are accepted and ignored."""


async def fetch_service(request: Request) -> Response:
    authenticate(request)
    service = emulator_of(request).service(request.path_params["sid"])
    return JSONResponse(service_json(service, _host(request)))


async def update_service(request: Request) -> Response:
    authenticate(request)
    emulator = emulator_of(request)
    changes = _changes(await read_form(request))
    service = emulator.update_service(request.path_params["sid"], changes)
    return JSONResponse(service_json(service, _host(request)))


def _changes(form: FormParams) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for param, name in _PARAMS.items():
        if param in form:
            changes[name] = _value(param, form[param][0])
    return changes


def _value(param: str, raw: str) -> Any:
    """An empty value clears a URL, as in Twilio; methods are GET or POST; flags are true or false."""
    if param == "FriendlyName":
        return raw
    if param.endswith("Method"):
        if raw.upper() not in ("GET", "POST"):
            raise TwilioError(20001, f"{param} must be GET or POST, not {raw!r}")
        return raw.upper()
    if param == "UseInboundWebhookOnNumber":
        if raw not in ("true", "false"):
            raise TwilioError(20001, f"{param} must be true or false, not {raw!r}")
        return raw == "true"
    return raw or None


def _host(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"
