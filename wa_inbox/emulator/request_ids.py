"""Twilio's request ids: every answer of the REST API carries `Twilio-Request-Id: RQ…`, which Twilio's
support asks for and which wa-inbox logs beside each request. The emulator gives each answer its own."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"twilio-request-id"
KEPT = 1000
"""Answers remembered (`RequestIds.answered`), newest last."""


@dataclass(frozen=True, slots=True)
class Answered:
    """One answer as the emulator sent it: what a test matches wa-inbox's log against."""

    method: str
    path: str
    status: int
    request_id: str


class RequestIds:
    """ASGI middleware: a new `RQ…` id in the headers of every answer, remembered in `answered`."""

    def __init__(self, app: ASGIApp, answered: deque[Answered]) -> None:
        self.app = app
        self.answered = answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator/"):
            await self.app(scope, receive, send)
            return
        request_id = "RQ" + secrets.token_hex(16)

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
                self.answered.append(Answered(scope["method"], scope["path"], message["status"], request_id))
            await send(message)

        await self.app(scope, receive, with_id)


def answer_log() -> deque[Answered]:
    return deque(maxlen=KEPT)
