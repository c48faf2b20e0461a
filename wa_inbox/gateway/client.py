"""Build the official twilio SDK client from settings, on our httpx transport."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from twilio.rest import Client

from wa_inbox.config import Settings
from wa_inbox.gateway.transport import HttpxTwilioClient

if TYPE_CHECKING:
    from wa_inbox.metrics import Metrics


def make_twilio_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None, metrics: Metrics | None = None
) -> Client:
    """An API key (SID + secret + account SID) when configured, the recommended way; else the auth token.
    Its requests are counted into `metrics`, if given (by method and HTTP status), and logged (see
    `transport`)."""
    settings.require_sender()
    twilio = settings.twilio
    http = HttpxTwilioClient(
        base_url=twilio.base_url,
        timeout=settings.outbox.request_timeout_seconds,
        transport=transport,
        metrics=metrics,
    )
    credentials = rest_credentials(settings)
    assert credentials is not None  # require_sender made sure
    return Client(*credentials, account_sid=twilio.account_sid, http_client=http, environment={})


def rest_credentials(settings: Settings) -> tuple[str, str] | None:
    """Basic-auth user and password for Twilio's REST API and media: the API key, else the auth token."""
    twilio = settings.twilio
    if twilio.api_key_sid and twilio.api_key_secret:
        return twilio.api_key_sid, twilio.api_key_secret.get_secret_value()
    if twilio.account_sid and twilio.auth_token:
        return twilio.account_sid, twilio.auth_token.get_secret_value()
    return None
