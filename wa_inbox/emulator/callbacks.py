"""Signed webhook delivery, as Twilio does it: a form POST with X-Twilio-Signature.

Every attempt is logged (status code or error) so tests can see what the receiver answered,
the way Twilio's debugger would show an 11200.
"""

from __future__ import annotations

import logging
import random
import uuid
from typing import Any
from urllib.parse import urldefrag

import httpx
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


class WebhookSender:
    """Posts signed forms with one httpx client; may deliver a webhook twice on purpose."""

    def __init__(self, auth_token: str, client: httpx.AsyncClient, rng: random.Random) -> None:
        self._validator = RequestValidator(auth_token)
        self._client = client
        self._rng = rng
        self.log: list[dict[str, Any]] = []

    async def aclose(self) -> None:
        await self._client.aclose()

    async def deliver(
        self, kind: str, url: str, params: dict[str, str], duplicate_rate: float = 0.0
    ) -> int | None:
        """POST params to url (twice with probability duplicate_rate); the first HTTP status."""
        headers = self._headers(url, params)
        status = await self._post(kind, url, params, headers)
        if self._rng.random() < duplicate_rate:
            await self._post(kind, url, params, headers)
        return status

    def _headers(self, url: str, params: dict[str, str]) -> dict[str, str]:
        """Same token on a duplicate, like a Twilio retry of one event."""
        token = uuid.UUID(int=self._rng.getrandbits(128), version=4)
        return {
            "X-Twilio-Signature": self._validator.compute_signature(_target(url), params),
            "I-Twilio-Idempotency-Token": str(token),
            "User-Agent": "TwilioProxy/1.1",
        }

    async def _post(self, kind: str, url: str, params: dict[str, str], headers: dict[str, str]) -> int | None:
        entry: dict[str, Any] = {"kind": kind, "url": url, "params": dict(params)}
        self.log.append(entry)
        try:
            response = await self._client.post(_target(url), data=params, headers=headers)
        except httpx.HTTPError as exc:
            entry["error"] = repr(exc)
            log.warning("webhook %s to %s failed: %r", kind, url, exc)
            return None
        entry["status_code"] = response.status_code
        return response.status_code


def _target(url: str) -> str:
    """The URL Twilio requests and signs: connection overrides (#rc=…) are never sent."""
    return urldefrag(url).url
