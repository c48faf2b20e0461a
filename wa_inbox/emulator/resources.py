"""Twilio's wire shapes: SIDs, dates, error bodies, resource JSON and status-callback forms.

Kept apart from behaviour so that tests can hold every shape against the OpenAPI subsets in
tests/spec, and so that a shape is changed in exactly one place.
"""

from __future__ import annotations

import random
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from wa_inbox.emulator.state import Media, Message, Service
    from wa_inbox.emulator.templates import Template

API_VERSION = "2010-04-01"

ERROR_MESSAGES: dict[int, str] = {
    20001: "Invalid parameter",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21619: "A text message body or media URL must be specified.",
    21620: "Invalid media URL(s)",
    21655: "The ContentSid is Invalid.",
    21656: "The ContentVariables Parameter is invalid.",
    21701: "The Messaging Service Sid is invalid.",
    21910: "Invalid From and To pair. From and To should be of the same channel.",
    30003: "Unreachable destination handset",
    30008: "Unknown error",
    63003: "Channel could not find To address",
    63005: "Channel did not accept given content",
    63007: "Twilio could not find a Channel with the specified From address",
    63016: (
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template."
    ),
    63018: "Rate limit exceeded for Channel",
    63024: "Invalid message recipient",
    63027: "Template does not exist for a language and locale",
    63028: "Number of parameters provided does not match the expected number of parameters",
    63030: "Unsupported parameter for type of channels message",
    63032: "User's number is part of an experiment",
    63049: "Meta chose not to deliver this WhatsApp marketing message",
}
"""Human text per error code, close to Twilio's; unknown codes get a generic line."""


def error_message(code: int) -> str:
    """Twilio's text for code, or a generic line for codes the table does not know."""
    return ERROR_MESSAGES.get(code, f"Error {code}")


def default_http_status(code: int) -> int:
    """The HTTP status Twilio pairs with an API error code (5xxxx: server side)."""
    special = {20003: 401, 20404: 404, 20429: 429, 20500: 500, 20503: 503}
    if code in special:
        return special[code]
    return 500 if 50000 <= code < 60000 else 400


class TwilioError(Exception):
    """An API error that routes answer with Twilio's error JSON."""

    def __init__(self, code: int, message: str | None = None, status: int | None = None) -> None:
        self.code = code
        self.message = message or error_message(code)
        self.status = status or default_http_status(code)
        super().__init__(f"{self.code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """Twilio's error JSON: code, message, more_info, status."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


async def twilio_error_response(request: Request, exc: Exception) -> Response:
    """Starlette exception handler rendering a TwilioError."""
    assert isinstance(exc, TwilioError)
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def new_sid(prefix: str, rng: random.Random) -> str:
    """A Twilio SID: two-letter prefix and 32 lowercase hex digits."""
    return f"{prefix}{rng.getrandbits(128):032x}"


def rfc2822(when: datetime | None) -> str | None:
    """The v2010 API's date format, e.g. 'Tue, 14 Apr 2026 12:00:00 +0000'."""
    return None if when is None else format_datetime(when)


def iso8601(when: datetime) -> str:
    """The Content API's date format, e.g. '2026-04-14T12:00:00Z'."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def message_uri(account_sid: str, sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"


def message_json(m: Message) -> dict[str, Any]:
    """A Message resource with every field of schema api.v2010.account.message."""
    base = message_uri(m.account_sid, m.sid)
    return {
        "account_sid": m.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": rfc2822(m.date_created),
        "date_sent": rfc2822(m.date_sent),
        "date_updated": rfc2822(m.date_updated),
        "direction": m.direction,
        "error_code": m.error_code,
        "error_message": m.error_message,
        "from": m.from_,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": str(m.num_media),
        "num_segments": str(m.num_segments),
        "price": m.price,
        "price_unit": "USD",
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": m.to,
        "uri": f"{base}.json",
    }


def media_json(media: Media) -> dict[str, Any]:
    """A Media resource with every field of schema api.v2010.account.message.media."""
    return {
        "account_sid": media.account_sid,
        "content_type": media.content_type,
        "date_created": rfc2822(media.date_created),
        "date_updated": rfc2822(media.date_created),
        "parent_sid": media.parent_sid,
        "sid": media.sid,
        "uri": f"{message_uri(media.account_sid, media.parent_sid)}/Media/{media.sid}.json",
    }


def status_params(m: Message, channel_install_sid: str) -> dict[str, str]:
    """The form of a status callback for m's current status (reference §2.2/2.3)."""
    params = {
        "MessageSid": m.sid,
        "SmsSid": m.sid,
        "SmsStatus": m.status,
        "MessageStatus": m.status,
        "AccountSid": m.account_sid,
        "From": m.from_,
        "To": m.to,
        "ApiVersion": API_VERSION,
        "ChannelPrefix": "whatsapp",
        "ChannelToAddress": m.to.removeprefix("whatsapp:"),
        "ChannelInstallSid": channel_install_sid,
    }
    if m.messaging_service_sid:
        params["MessagingServiceSid"] = m.messaging_service_sid
    if m.error_code is not None:
        params["ErrorCode"] = str(m.error_code)
        params["ErrorMessage"] = m.error_message or ""
    if m.status in ("delivered", "read"):
        params["EventType"] = m.status.upper()
    return params


def service_json(s: Service, host: str) -> dict[str, Any]:
    """A Messaging Service (messaging.v1.service): the twilio SDK's ServiceInstance fields."""
    url = f"{host}/v1/Services/{s.sid}"
    return {
        "sid": s.sid,
        "account_sid": s.account_sid,
        "friendly_name": s.friendly_name,
        "date_created": iso8601(s.date_created),
        "date_updated": iso8601(s.date_updated),
        "inbound_request_url": s.inbound_request_url,
        "inbound_method": s.inbound_method,
        "fallback_url": s.fallback_url,
        "fallback_method": s.fallback_method,
        "status_callback": s.status_callback,
        "sticky_sender": True,
        "mms_converter": True,
        "smart_encoding": True,
        "scan_message_content": "inherit",
        "fallback_to_long_code": False,
        "area_code_geomatch": True,
        "synchronous_validation": False,
        "validity_period": 36000,
        "url": url,
        "links": {name: f"{url}/{path}" for name, path in _SERVICE_LINKS.items()},
        "usecase": "undeclared",
        "us_app_to_person_registered": False,
        "use_inbound_webhook_on_number": s.use_inbound_webhook_on_number,
    }


_SERVICE_LINKS = {
    "phone_numbers": "PhoneNumbers",
    "short_codes": "ShortCodes",
    "alpha_senders": "AlphaSenders",
    "channel_senders": "ChannelSenders",
}


def content_json(t: Template, account_sid: str, host: str) -> dict[str, Any]:
    """A Content resource (schema content.v1.content)."""
    url = f"{host}/v1/Content/{t.sid}"
    return {
        **_content_common(t, account_sid),
        "url": url,
        "links": {
            "approval_create": f"{url}/ApprovalRequests/whatsapp",
            "approval_fetch": f"{url}/ApprovalRequests",
        },
    }


def content_and_approvals_json(t: Template, account_sid: str) -> dict[str, Any]:
    """A ContentAndApprovals record (schema content.v1.content_and_approvals)."""
    return {**_content_common(t, account_sid), "approval_requests": dict(t.approval)}


def approval_fetch_json(t: Template, account_sid: str, host: str) -> dict[str, Any]:
    """A template's WhatsApp approval (schema content.v1.content.approval_fetch)."""
    return {
        "sid": t.sid,
        "account_sid": account_sid,
        "whatsapp": {"type": "whatsapp", **t.approval},
        "url": f"{host}/v1/Content/{t.sid}/ApprovalRequests",
    }


def _content_common(t: Template, account_sid: str) -> dict[str, Any]:
    return {
        "date_created": iso8601(t.created),
        "date_updated": iso8601(t.updated),
        "sid": t.sid,
        "account_sid": account_sid,
        "friendly_name": t.friendly_name,
        "language": t.language,
        "variables": dict(t.variables),
        "types": t.types,
    }
