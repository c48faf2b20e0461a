"""Build the official twilio SDK client from settings, on our httpx transport."""

from __future__ import annotations

import httpx
from twilio.rest import Client

from wa_inbox.config import Settings
from wa_inbox.gateway.transport import HttpxTwilioClient


def make_twilio_client(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Client:
    """An API key (SID + secret + account SID) when configured, the recommended way; else the auth token."""
    settings.require_sender()
    twilio = settings.twilio
    http = HttpxTwilioClient(
        base_url=twilio.base_url,
        timeout=settings.outbox.request_timeout_seconds,
        transport=transport,
    )
    if twilio.api_key_sid and twilio.api_key_secret:
        username, password = twilio.api_key_sid, twilio.api_key_secret.get_secret_value()
    else:
        assert twilio.auth_token is not None  # require_sender made sure
        username, password = twilio.account_sid, twilio.auth_token.get_secret_value()
    return Client(username, password, account_sid=twilio.account_sid, http_client=http, environment={})
