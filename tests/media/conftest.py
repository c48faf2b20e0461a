"""A running world for media tests, files to attach, and small servers that record who asked them what."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.world import customer_writes, quick
from wa_inbox.config import Settings
from wa_inbox.emulator.customers import tiny_png
from wa_inbox.serving import bind, serve_in_background
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
PNG = tiny_png((10, 120, 200), size=16)


@contextlib.asynccontextmanager
async def media_world(tmp_path: Path, **media: Any) -> AsyncIterator[EmulatedInbox]:
    """`running_world`, with `[media]` settings changed by `media`."""

    def changes(settings: Settings) -> Settings:
        settings = quick(settings)
        return settings.model_copy(update={"media": settings.media.model_copy(update=media)})

    async with emulated_inbox(tmp_path / "inbox.db", changes, status_delay=(0.002, 0.01), seed=7) as world:
        yield world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    """A world where Ana has just written, so session messages to her are allowed."""
    async with media_world(tmp_path) as running:
        await customer_writes(running, ANA)
        yield running


@dataclass
class Recorder:
    """A loopback server that answers every GET with `body` and keeps each request's headers."""

    url: str
    body: bytes
    requests: list[dict[str, str]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def recorder(body: bytes = PNG) -> AsyncIterator[Recorder]:
    sock = bind()
    found = Recorder(f"http://127.0.0.1:{sock.getsockname()[1]}", body)

    async def answer(request: Request) -> Response:
        found.requests.append(dict(request.headers))
        return Response(found.body, media_type="image/png")

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET"])])
    async with serve_in_background(app, sock):
        yield found
