"""Media tests' helpers: a world with its own `[media]` settings, files to attach, small servers that
record who asked them what, and a stand-in for Twilio's media redirect."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.support.world import eventually, quick
from wa_inbox.config import Settings
from wa_inbox.domain.models import InboundMessage, MediaRef, Message, Verdict, WebhookKind, WebhookRecord
from wa_inbox.emulator.customers import tiny_png
from wa_inbox.running.sockets import bind, serve_in_background
from wa_inbox.store import Store
from wa_inbox.testing import BUSINESS, EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
PNG = tiny_png((10, 120, 200), size=16)
ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "f3c1d2e4b5a697887766554433221100"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


@contextlib.asynccontextmanager
async def media_world(tmp_path: Path, **media: Any) -> AsyncIterator[EmulatedInbox]:
    """`running_world`, with `[media]` settings changed by `media`."""

    def changes(settings: Settings) -> Settings:
        settings = quick(settings)
        return settings.model_copy(update={"media": settings.media.model_copy(update=media)})

    async with emulated_inbox(tmp_path / "inbox.db", changes, status_delay=(0.002, 0.01), seed=7) as world:
        yield world


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


async def media_of(store: Store, sid: str) -> MediaRef:
    """The message's attachment once the worker is done with it (downloaded or given up)."""

    async def probe() -> Message | None:
        return await store.get_message(sid)

    def done(message: Message | None) -> bool:
        return message is not None and bool(message.media[0].local_path or message.media[0].download_error)

    message = await eventually(probe, done)
    assert message is not None
    return message.media[0]


def downloaded(media: MediaRef) -> bytes:
    assert media.download_error is None and media.local_path is not None
    return Path(media.local_path).read_bytes()


async def ingest_with_media(store: Store, url: str) -> str:
    """A customer message announcing media at `url`, stored as the receiver would store it."""
    sid = "MM" + "a1" * 16
    message = InboundMessage(sid, ANA, BUSINESS, "", media=(MediaRef(0, url, "image/png"),))
    record = WebhookRecord(WebhookKind.INBOUND, "/inbound", Verdict.ACCEPTED, "", {}, datetime.now(UTC))
    assert await store.ingest_inbound(message, record)
    return sid


@contextlib.asynccontextmanager
async def twilio_redirecting_to(location: str) -> AsyncIterator[str]:
    """A stand-in for api.twilio.com: Basic auth required, then a 307 to `location` (another origin)."""

    async def media(request: Request) -> Response:
        if request.headers.get("authorization") != BASIC:
            return Response(status_code=401)
        return RedirectResponse(location, status_code=307)

    sock = bind()
    async with serve_in_background(Starlette(routes=[Route("/Media/ME1", media)]), sock) as listening:
        yield listening.url
