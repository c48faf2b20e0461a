"""An httpx transport for the twilio SDK: pooled connections, timeouts, and one base-URL override.

The override sends every `https://*.twilio.com` request to another server with the path unchanged,
which is how the same code talks to Twilio in production and to the emulator here.

Every request is logged once answered, at INFO: method, path (never the query string: a listing's
carries customers' numbers), HTTP status, Twilio's request id (`Twilio-Request-Id`, what its support
asks for) and, from the answer, the resource's SID and status or the error code. Credentials are in
the Authorization header and the body is never logged, so neither is any secret.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

if TYPE_CHECKING:
    from wa_inbox.metrics import Metrics

log = logging.getLogger(__name__)

_JSON_TYPES = ("application/json", "application/scim+json")
REQUEST_ID_HEADERS = ("twilio-request-id", "x-twilio-request-id")
"""Twilio answers with `Twilio-Request-Id: RQ…`; the `X-` spelling is read too, as some proxies and
documents have it."""
_SID_FIELDS = {"SM": "message_sid", "MM": "message_sid"}
"""The field a resource's SID goes to in a JSON log line: a message's is `message_sid`, others `sid`."""
_PARSED_BYTES = 16 * 1024
"""An answer longer than this (a page of a listing) is not read for SIDs: one resource is far smaller."""


class HttpxTwilioClient(AsyncHttpClient):
    """The SDK's `AsyncHttpClient` over one shared `httpx.AsyncClient`."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(logger=log, is_async=True, timeout=timeout)
        self._metrics = metrics
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
        method = method.upper()
        try:
            response = await self._client.request(
                method,
                self.target(url),
                params=params,  # type: ignore[arg-type]
                headers=headers,
                auth=auth,
                timeout=timeout or self.timeout,
                follow_redirects=allow_redirects,
                **body,
            )
        except httpx.TransportError:
            if self._metrics:
                self._metrics.twilio_answered(method, "no_answer")
            raise
        if self._metrics:
            self._metrics.twilio_answered(method, str(response.status_code))
        _log_answer(method, httpx.URL(url).path, response)
        return Response(response.status_code, response.text, response.headers)

    async def close(self) -> None:
        await self._client.aclose()


def request_id(headers: httpx.Headers) -> str | None:
    """Twilio's id of the request it answered (RQ…), for its support and for matching its logs."""
    return next((headers[name] for name in REQUEST_ID_HEADERS if name in headers), None)


def _log_answer(method: str, path: str, response: httpx.Response) -> None:
    """One line per request with what identifies it at Twilio, the same as fields for a JSON log."""
    if not log.isEnabledFor(logging.INFO):
        return
    answer = _resource(response)
    sid = answer.get("sid") if isinstance(answer.get("sid"), str) else None
    status = answer.get("status") if isinstance(answer.get("status"), str) else None
    error_code = answer.get("code") if response.is_error else answer.get("error_code")
    rid = request_id(response.headers)
    fields = {
        "method": method,
        "path": path,
        "http_status": response.status_code,
        "request_id": rid,
        _SID_FIELDS.get((sid or "")[:2], "sid"): sid,
        "status": status,
        "error_code": error_code,
    }
    log.info(
        f"twilio {method} {path} -> {response.status_code} request_id={rid or '-'} sid={sid or '-'}"
        f" status={status or '-'} error_code={error_code or '-'}",
        extra=fields,
    )


def _resource(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object when it is one small resource (or error); {} otherwise."""
    if len(response.content) > _PARSED_BYTES or "json" not in response.headers.get("content-type", ""):
        return {}
    try:
        parsed = json.loads(response.content)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
