"""Run an ASGI app on a real loopback socket inside the current event loop (demo, TUI, tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from wa_inbox.config import ReceiverSettings


@dataclass(frozen=True, slots=True)
class Listening:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind first, so the port (and so the public URL signatures need) is known before the app is built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class _QuietServer(uvicorn.Server):
    """A server that leaves signals to its host process (the TUI, the demo, pytest)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_in_background(
    app: ASGIApp, sock: socket.socket, limits: ReceiverSettings | None = None
) -> AsyncIterator[Listening]:
    """Serve `app` on `sock` until the block ends; uvicorn logs through `logging`, never the terminal.

    With `limits` (the receiver's), connections are guarded as `receiver.connections` describes.
    """
    guards = {}
    if limits is not None:
        from wa_inbox.receiver.connections import uvicorn_options

        guards = uvicorn_options(limits)
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5, **guards
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    while not server.started:
        if task.done():
            await task
            raise RuntimeError("the server stopped during start-up; see the log")
        await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    try:
        yield Listening(host, port)
    finally:
        server.should_exit = True
        await task
