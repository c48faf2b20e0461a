"""Routes at the Content API's paths (content.twilio.com/v1): templates and their approvals.

Absolute links in `meta` and `url` use the host the request came to, as Twilio's do, so a
client pointed at the emulator keeps paging against the emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wa_inbox.emulator.paging import PageRequest, content_envelope
from wa_inbox.emulator.resources import (
    approval_fetch_json,
    content_and_approvals_json,
    content_json,
)
from wa_inbox.emulator.templates import Template
from wa_inbox.emulator.web import authenticate, emulator_of


async def list_content(request: Request) -> Response:
    authenticate(request)
    host, account = _host(request), _account(request)
    return JSONResponse(_page(request, lambda t: content_json(t, account, host)))


async def list_content_and_approvals(request: Request) -> Response:
    authenticate(request)
    account = _account(request)
    return JSONResponse(_page(request, lambda t: content_and_approvals_json(t, account)))


async def fetch_content(request: Request) -> Response:
    authenticate(request)
    return JSONResponse(content_json(_template(request), _account(request), _host(request)))


async def fetch_approvals(request: Request) -> Response:
    authenticate(request)
    template = _template(request)
    return JSONResponse(approval_fetch_json(template, _account(request), _host(request)))


def _page(request: Request, render: Callable[[Template], dict[str, Any]]) -> dict[str, Any]:
    paging = PageRequest.from_query(request.query_params)
    page = paging.cut(list(emulator_of(request).world.templates.values()), lambda t: t.sid)
    url = f"{_host(request)}{request.url.path}"
    return content_envelope([render(t) for t in page.items], url, paging, page)


def _template(request: Request) -> Template:
    return emulator_of(request).world.template(request.path_params["sid"])


def _host(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _account(request: Request) -> str:
    return emulator_of(request).config.account_sid
