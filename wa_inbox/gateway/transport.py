"""An httpx transport for the twilio SDK: pooled connections, timeouts, and one base-URL override.

The override sends every `https://*.twilio.com` request to another server with the path unchanged,
which is how the same code talks to Twilio in production and to the emulator here.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

log = logging.getLogger(__name__)

_JSON_TYPES = ("application/json", "application/scim+json")


class HttpxTwilioClient(AsyncHttpClient):
    """The SDK's `AsyncHttpClient` over one shared `httpx.AsyncClient`."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(logger=log, is_async=True, timeout=timeout)
        self._base_url = httpx.URL(base_url) if base_url else None
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport, limits=limits)

    def target(self, url: str) -> str:
        """Where a request for `url` really goes."""
        original = httpx.URL(url)
        if self._base_url is None or not original.host.endswith("twilio.com"):
            return url
        path = self._base_url.path.rstrip("/") + original.path
        return str(self._base_url.copy_with(path=path, query=original.query or None))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature
        allow_redirects: bool = False,
    ) -> Response:
        as_json = headers is not None and headers.get("Content-Type") in _JSON_TYPES
        body: dict[str, Any] = {"json": data} if as_json else {"data": data}
        response = await self._client.request(
            method.upper(),
            self.target(url),
            params=params,  # type: ignore[arg-type]
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
            **body,
        )
        log.debug("%s %s -> %s", method.upper(), httpx.URL(url).path, response.status_code)
        return Response(response.status_code, response.text, response.headers)

    async def close(self) -> None:
        await self._client.aclose()
