"""`wa-inbox serve`: the receiver and the sender, headless, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import click

from wa_inbox.cli.common import (
    check_tunnel_flags,
    config_option,
    db_option,
    friendly_errors,
    log,
    ngrok_option,
    point_twilio_option,
    settings_for,
)
from wa_inbox.cli.signals import stop_requested
from wa_inbox.config import ConfigError, Settings
from wa_inbox.logs import configure_logging
from wa_inbox.running.sockets import bind
from wa_inbox.store import open_store, pending_steps
from wa_inbox.store.files import prepare_database


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on.")
@ngrok_option
@point_twilio_option
@config_option
@db_option
@friendly_errors
def serve(
    host: str, port: int, ngrok: bool, point_twilio: bool, config_path: Path | None, db_path: str | None
) -> None:
    """Run the webhook receiver headless (systemd, one host; agents attach to its database)."""
    settings = settings_for(config_path, db_path)
    check_tunnel_flags(ngrok, point_twilio)
    if not ngrok:  # with --ngrok the tunnel supplies the public URL
        settings.require_receiver()
    _check_schema(settings)
    prepare_database(settings.store.path)  # a wrong path is one sentence now, not after the port is bound
    configure_logging(logging.INFO, log_format=settings.log.format)
    try:
        sock = bind(host, port)
    except OSError as error:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({error.strerror}): pass another --port."
        ) from None
    asyncio.run(_serve_through_ngrok(settings, sock, point_twilio) if ngrok else _serve(settings, sock))


def _check_schema(settings: Settings) -> None:
    """Before the port is bound: a database a newer wa-inbox migrated is refused (`NewerSchema`), and
    with `[store] migrate = "never"` so is an older one, which `wa-inbox db migrate` must bring up to
    date first (several replicas must not each migrate the database they share while others use it)."""
    missing = pending_steps(settings.store.path)
    if missing and settings.store.migrate == "never":
        raise ConfigError(
            f"The database at {settings.store.path} lacks {len(missing)} schema step(s) from "
            f'{missing[0]} on, and [store] migrate is "never": run `wa-inbox db migrate` first '
            "(once, as a Job or an init container), then start serve."
        )


async def _serve_through_ngrok(settings: Settings, sock: socket.socket, point_twilio: bool) -> None:
    from wa_inbox.tunnel import tunnel

    async with tunnel(settings, sock.getsockname()[1], point_twilio) as public:
        await _serve(public, sock)


async def _serve(settings: Settings, sock: socket.socket) -> None:
    """Until SIGINT or SIGTERM; then uvicorn finishes the requests in flight before the store closes."""
    from wa_inbox.running.inbox import running_inbox

    stop = stop_requested()
    store = await open_store(settings.store.path)
    try:
        async with running_inbox(settings, store, sock, role="serve") as inbox:
            sending = "and sending" if inbox.outbox else "receiving only"
            log.info("listening on %s (%s); database %s", inbox.listening.url, sending, settings.store.path)
            if inbox.metrics_url:
                log.info("Prometheus metrics at %s", inbox.metrics_url)
            await stop.wait()
    finally:
        await store.close()
