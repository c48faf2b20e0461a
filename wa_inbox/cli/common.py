"""Shared by every command: options, settings, one-sentence errors, the store and the Twilio client."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from pydantic import ValidationError

from wa_inbox.config import ConfigError, Settings, StoreSettings, load_settings
from wa_inbox.domain.addresses import InvalidAddress
from wa_inbox.domain.errors import describe
from wa_inbox.store import NewerSchema, Store, open_store
from wa_inbox.store.errors import StoreError

if TYPE_CHECKING:  # imported only by the commands that use them
    from twilio.rest import Client

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
    "--db", "db_path", type=str, help="The database: a SQLite file, or a postgresql:// URL."
)
"""A string, not a `click.Path`: a `Path` would fold a URL's `//` into `/`."""


ngrok_option = click.option(
    "--ngrok", is_flag=True, help="Tunnel to the receiver through ngrok; its https URL is PUBLIC_BASE_URL."
)


point_twilio_option = click.option(
    "--point-twilio",
    is_flag=True,
    help="With --ngrok: point the Messaging Service's webhooks at the tunnel, and back on exit.",
)


class CommandError(Exception):
    """One sentence for the user; exit status 2 for what they can fix in the command, 1 for a failure."""

    def __init__(self, sentence: str, status: int = 2) -> None:
        super().__init__(sentence)
        self.status = status


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """One sentence and exit status 2 for what the user can fix; never a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ConfigError, InvalidAddress, StoreError) as error:  # UnusableDatabase is a StoreError
            click.echo(f"wa-inbox: {error}", err=True)
            sys.exit(2)
        except CommandError as error:
            click.echo(f"wa-inbox: {error}", err=True)
            sys.exit(error.status)

    return wrapper


def settings_for(config_path: Path | None, db_path: str | Path | None) -> Settings:
    settings = load_settings(config_path)
    if db_path is not None:
        settings = settings.model_copy(update={"store": _store_at(settings.store, db_path)})
    return settings


def _store_at(store: StoreSettings, db_path: str | Path) -> StoreSettings:
    """`--db`, validated like `[store] path` (a copy with an update would skip the checks); the rest
    of `[store]` (`migrate`) as the settings have it."""
    try:
        return StoreSettings.model_validate({**store.model_dump(), "path": db_path})
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(f"--db {db_path} {reason}.") from None


async def with_existing_store(
    settings: Settings, use: Callable[[Store], Awaitable[R]], read_only: bool = False
) -> R:
    """`use` the database of a running (or stopped) `wa-inbox serve`; `read_only` for commands that
    only read, which then start no writer process."""
    if isinstance(settings.store.path, Path) and not settings.store.path.is_file():
        raise ConfigError(
            f"There is no database at {settings.store.path}: start `wa-inbox serve` first, "
            "or point WA_INBOX_DB (or --db) at an existing one."
        )
    try:
        store = await open_store(settings.store.path, read_only=read_only)
    except NewerSchema:
        raise  # a wa-inbox database, only a newer one: its own sentence says what to do
    except StoreError as error:
        if not isinstance(settings.store.path, Path):  # its sentence says what and how to fix it
            raise ConfigError(str(error)) from None
        raise ConfigError(
            f"{settings.store.path} is not a wa-inbox database ({error}): "
            "point WA_INBOX_DB (or --db) at the file `wa-inbox serve` writes."
        ) from None
    try:
        return await use(store)
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def twilio_client(settings: Settings) -> AsyncIterator[Client]:
    """The SDK client, closed after use; a refused request or an unreachable Twilio is one sentence."""
    import httpx
    from twilio.base.exceptions import TwilioRestException

    from wa_inbox.gateway.client import make_twilio_client

    client = make_twilio_client(settings)
    try:
        yield client
    except TwilioRestException as error:
        raise CommandError(twilio_refused("request", error.code, error.msg), 1) from None
    except httpx.TransportError as error:
        raise CommandError(
            f"Twilio cannot be reached ({type(error).__name__}): check the network, "
            "and WA_INBOX_TWILIO_BASE_URL if it is set.",
            1,
        ) from None
    finally:
        await client.http_client.close()


def twilio_refused(what: str, code: int | None, message: str | None) -> str:
    """`error N — meaning action` from the catalogue; Twilio's own words for a code it lacks."""
    if code is None:
        return message or f"Twilio did not take the {what}."
    info = describe(code)
    why = f"{info.meaning} {info.action}" if info else message or "no reason given."
    return f"Twilio refused the {what}: error {code} — {why}"


def echo(text: Any) -> None:
    if text:
        click.echo(text)


def check_tunnel_flags(ngrok: bool, point_twilio: bool) -> None:
    if point_twilio and not ngrok:
        raise CommandError("--point-twilio points Twilio at the ngrok tunnel: use it with --ngrok.")
