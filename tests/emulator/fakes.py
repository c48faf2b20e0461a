"""Test doubles around the emulator: the SDK's httpx transport, a webhook receiver, constants."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator

from wa_inbox.emulator import EmulatorConfig

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "f3c1d2e4b5a697887766554433221100"
API_KEY_SID = "SK" + "7a" * 16
API_KEY_SECRET = "api-key-secret-for-tests"
SERVICE_SID = "MG" + "3c" * 16
SENDER = "whatsapp:+14155238886"
CUSTOMER = "whatsapp:+5511987654321"
EMULATOR_URL = "http://emulator.test"
RECEIVER_URL = "http://receiver.test"
STATUS_URL = f"{RECEIVER_URL}/status"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class HttpxTwilioClient(AsyncHttpClient):
    """The SDK's transport, redirecting every https://*.twilio.com request to the emulator."""

    def __init__(self, transport: httpx.AsyncBaseTransport, base_url: str = EMULATOR_URL) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=True, timeout=5.0)
        self._client = httpx.AsyncClient(transport=transport)
        self._base = httpx.URL(base_url)
        self.requests: list[httpx.Request] = []

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's interface)
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        url = httpx.URL(uri)
        if url.host.endswith("twilio.com"):
            url = self._base.copy_with(path=url.path, query=url.query)
        response = await self._client.request(
            method.upper(),
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
        )
        self.requests.append(response.request)
        return TwilioResponse(response.status_code, response.text, response.headers)

    async def close(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class Webhook:
    """One request the receiver got, and whether its signature checked out."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    valid: bool


class Receiver:
    """A tiny Starlette app standing in for wa-inbox's webhook receiver."""

    def __init__(self) -> None:
        self.webhooks: list[Webhook] = []
        self._arrived = asyncio.Condition()
        routes = [Route(p, self._receive, methods=["POST"]) for p in ("/inbound", "/status")]
        self.app = Starlette(routes=routes)

    async def _receive(self, request: Request) -> Response:
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        signature = request.headers.get("X-Twilio-Signature", "")
        valid = RequestValidator(AUTH_TOKEN).validate(str(request.url), params, signature)
        hook = Webhook(request.url.path, params, dict(request.headers), valid)
        async with self._arrived:
            self.webhooks.append(hook)
            self._arrived.notify_all()
        return Response(TWIML, media_type="text/xml")

    def of(self, path: str) -> list[Webhook]:
        return [w for w in self.webhooks if w.path == path]

    def callbacks(self, sid: str) -> list[Webhook]:
        """Status callbacks received for one message, in arrival order."""
        return [w for w in self.of("/status") if w.params["MessageSid"] == sid]

    def statuses(self, sid: str) -> list[str]:
        return [w.params["MessageStatus"] for w in self.callbacks(sid)]

    async def wait_for(self, path: str, count: int, within: float = 5.0) -> list[Webhook]:
        """Block until count webhooks have arrived at path (for background chatter)."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.of(path)) >= count), within)
        return self.of(path)


def make_config(**overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "api_key_sid": API_KEY_SID,
        "api_key_secret": API_KEY_SECRET,
        "inbound_url": f"{RECEIVER_URL}/inbound",
        "status_delay": (0.0005, 0.002),
        "seed": 1234,
        "sender": SENDER,
        "public_url": EMULATOR_URL,
    }
    return EmulatorConfig(**(settings | overrides))
