"""The servers bench/ingest.py compares, and the runner that starts one: `python baseline_apps.py KIND PORT`.

KIND is `bare` (read the body, 204: the ceiling), `reference` (Twilio's documented handler: parse the
form, `RequestValidator.validate`, store nothing) or `receiver` (wa-inbox's real receiver, configured from
the environment like `wa-inbox serve`). All three run under identical uvicorn settings: httptools with the
receiver's connection guards (`receiver.connections`), as `wa-inbox serve` runs.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

PATH = "/twilio/status"


async def bare(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


def reference_app(token: str) -> Starlette:
    validator = RequestValidator(token)

    async def reference(request: Request) -> Response:
        form = await request.form()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(str(request.url), form, signature):
            return Response(status_code=403)
        return Response(status_code=204)

    return Starlette(routes=[Route(PATH, reference, methods=["POST"])])


def build(kind: str) -> Starlette:
    if kind == "bare":
        return Starlette(routes=[Route(PATH, bare, methods=["POST"])])
    if kind == "reference":
        return reference_app(os.environ["TWILIO_AUTH_TOKEN"])
    if kind == "receiver":
        from wa_inbox.config import load_settings
        from wa_inbox.logs import configure_logging
        from wa_inbox.receiver.app import create_app

        # As `wa-inbox serve` does, but to a file: one INFO line per request stays in the measurement.
        configure_logging(logging.INFO, Path(os.environ["WA_INBOX_BENCH_LOG"]))
        if pool := os.environ.get("WA_INBOX_BENCH_POOL_SIZE"):  # ingest.py --pg-pool: measure another size
            from wa_inbox.store.postgres import connection

            connection.POOL_SIZE = int(pool)
        return create_app(load_settings())
    raise SystemExit(f"unknown server kind {kind!r}: use bare, reference or receiver")


def main() -> None:
    from wa_inbox.config import ReceiverSettings
    from wa_inbox.receiver.connections import uvicorn_options

    kind, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(
        build(kind),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        # As `wa-inbox serve`: httptools with the receiver's connection guards and limits.
        **uvicorn_options(ReceiverSettings()),
    )


if __name__ == "__main__":
    main()
