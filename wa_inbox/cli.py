"""The `wa-inbox` command line: each command wires the parts together and turns errors into sentences."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from wa_inbox import listing
from wa_inbox.config import ConfigError, Settings, load_settings
from wa_inbox.domain.addresses import InvalidAddress, to_whatsapp
from wa_inbox.domain.models import Direction
from wa_inbox.serving import bind
from wa_inbox.store import MessageQuery, Store, open_store

log = logging.getLogger("wa_inbox")
P = ParamSpec("P")
R = TypeVar("R")

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML settings file (default: $WA_INBOX_CONFIG, else the XDG config dir).",
)
db_option = click.option(
    "--db", "db_path", type=click.Path(path_type=Path, dir_okay=False), help="SQLite database file."
)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """One sentence and exit status 2 for what the user can fix; never a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigError, InvalidAddress) as error:
            click.echo(f"wa-inbox: {error}", err=True)
            sys.exit(2)

    return wrapper


def settings_for(config_path: Path | None, db_path: Path | None) -> Settings:
    settings = load_settings(config_path)
    if db_path is not None:
        settings = settings.model_copy(update={"store": settings.store.model_copy(update={"path": db_path})})
    return settings


async def _with_existing_store(settings: Settings, use: Callable[[Store], Awaitable[R]]) -> R:
    if not settings.store.path.exists():
        raise ConfigError(
            f"There is no database at {settings.store.path}: start `wa-inbox serve` first, "
            "or point WA_INBOX_DB (or --db) at an existing one."
        )
    store = await open_store(settings.store.path)
    try:
        return await use(store)
    finally:
        await store.close()


@click.group()
@click.version_option(package_name="wa-inbox")
def main() -> None:
    """A terminal agent inbox for WhatsApp Business over Twilio."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on.")
@config_option
@db_option
@friendly_errors
def serve(host: str, port: int, config_path: Path | None, db_path: Path | None) -> None:
    """Run the webhook receiver headless (systemd, one host; agents attach to its database)."""
    settings = settings_for(config_path, db_path)
    settings.require_receiver()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        sock = bind(host, port)
    except OSError as error:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({error.strerror}): pass another --port."
        ) from None
    asyncio.run(_serve(settings, sock))


async def _serve(settings: Settings, sock: socket.socket) -> None:
    """Until SIGINT or SIGTERM; then uvicorn finishes the requests in flight before the store closes."""
    from wa_inbox.runtime import running_inbox

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    store = await open_store(settings.store.path)
    try:
        async with running_inbox(settings, store, sock) as inbox:
            sending = "and sending" if inbox.outbox else "receiving only"
            log.info("listening on %s (%s); database %s", inbox.listening.url, sending, settings.store.path)
            await stop.wait()
    finally:
        await store.close()


@main.command()
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path, dir_okay=False), help="Keep the demo's database here."
)
@click.option(
    "--pace",
    default=4.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between customer messages.",
)
@friendly_errors
def demo(db_path: Path | None, pace: float) -> None:
    """See the whole product against a built-in Twilio emulator: no account, no network."""
    from wa_inbox.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(db_path, pace, click.echo))


@main.group()
def messages() -> None:
    """List and show stored messages."""


@messages.command("list")
@click.option("--to", "to_addr", help="Only messages to this number.")
@click.option("--from", "from_addr", help="Only messages from this number.")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Only inbound or outbound.")
@click.option("--status", help="Only messages in this status (queued, sent, delivered, read, failed, …).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="tsv", show_default=True)
@config_option
@db_option
@friendly_errors
def messages_list(
    to_addr: str | None,
    from_addr: str | None,
    direction: str | None,
    status: str | None,
    limit: int,
    output: str,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """Newest first."""
    query = MessageQuery(
        to_addr=to_whatsapp(to_addr) if to_addr else None,
        from_addr=to_whatsapp(from_addr) if from_addr else None,
        direction=Direction(direction) if direction else None,
        status=status,
        limit=limit,
    )
    settings = settings_for(config_path, db_path)
    found = asyncio.run(_with_existing_store(settings, lambda store: store.list_messages(query)))
    records = [listing.message_record(message) for message in found]
    _echo(listing.render(records, listing.MESSAGE_COLUMNS, output))


@messages.command("fetch")
@click.argument("sid")
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="json", show_default=True)
@config_option
@db_option
@friendly_errors
def messages_fetch(sid: str, output: str, config_path: Path | None, db_path: Path | None) -> None:
    """One message by its SID."""
    settings = settings_for(config_path, db_path)
    message = asyncio.run(_with_existing_store(settings, lambda store: store.get_message(sid)))
    if message is None:
        click.echo(f"wa-inbox: no message with SID {sid} in {settings.store.path}.", err=True)
        sys.exit(1)
    record = listing.message_record(message)
    if output == "json":
        _echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        _echo(listing.render([record], listing.MESSAGE_COLUMNS, output))


@main.group()
def conversations() -> None:
    """List conversations."""


@conversations.command("list")
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="tsv", show_default=True)
@config_option
@db_option
@friendly_errors
def conversations_list(output: str, config_path: Path | None, db_path: Path | None) -> None:
    """By latest activity."""
    settings = settings_for(config_path, db_path)
    found = asyncio.run(_with_existing_store(settings, lambda store: store.list_conversations()))
    records = [listing.conversation_record(conversation) for conversation in found]
    _echo(listing.render(records, listing.CONVERSATION_COLUMNS, output))


def _echo(text: Any) -> None:
    if text:
        click.echo(text)
