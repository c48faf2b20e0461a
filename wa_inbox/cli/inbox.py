"""The inbox itself: `wa-inbox` (embedded receiver), `wa-inbox tui --attach` and `wa-inbox demo`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
import platformdirs

from wa_inbox.cli.common import (
    CommandError,
    check_tunnel_flags,
    config_option,
    db_option,
    friendly_errors,
    ngrok_option,
    point_twilio_option,
    settings_for,
)
from wa_inbox.config import AgentSettings, ConfigError, Settings
from wa_inbox.domain.team import valid_agent_name
from wa_inbox.logs import configure_logging
from wa_inbox.store import files, upgrade_in_place
from wa_inbox.store.files import prepare_database

if TYPE_CHECKING:  # imported only by the commands that use them
    from wa_inbox.running.services import Backend, Services


inbox_agent_option = click.option(
    "--agent",
    "agent_name",
    help="Who this inbox answers as (default: [agent] name, WA_INBOX_AGENT, else the OS user's name).",
)


def _checked_agent(agent_name: str | None) -> str | None:
    if agent_name is not None and not valid_agent_name(agent_name):
        raise CommandError(
            f"--agent {agent_name!r} is not an agent name: use up to 32 letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit."
        )
    return agent_name


def _as_agent(settings: Settings, agent_name: str | None) -> Settings:
    """The settings with `--agent` in `[agent] name`, when given: the inbox answers as them."""
    if _checked_agent(agent_name) is None:
        return settings
    return settings.model_copy(update={"agent": AgentSettings(name=agent_name)})


@click.group(invoke_without_command=True)
@click.version_option(package_name="wa-inbox")
@click.option("--port", default=8080, show_default=True, help="Port of the embedded receiver.")
@ngrok_option
@point_twilio_option
@config_option
@db_option
@inbox_agent_option
@click.pass_context
@friendly_errors
def main(
    ctx: click.Context,
    port: int,
    ngrok: bool,
    point_twilio: bool,
    config_path: Path | None,
    db_path: str | None,
    agent_name: str | None,
) -> None:
    """A terminal agent inbox for WhatsApp Business over Twilio.

    With no command: the inbox, with the webhook receiver running inside it (local development
    behind ngrok). On a server, run `wa-inbox serve` and open agents' inboxes with `wa-inbox tui --attach`.
    """
    if ctx.invoked_subcommand is None:
        settings = _as_agent(settings_for(config_path, db_path), agent_name)
        prepare_database(settings.store.path)  # a wrong path is one sentence here, not an error in the app
        _run_tui(_embedded(settings, port, ngrok, point_twilio), settings)


def _embedded(settings: Settings, port: int, ngrok: bool, point_twilio: bool) -> Backend:
    """The inbox's own receiver and sender; with --ngrok they start inside the tunnel."""
    from wa_inbox.running.services import embedded

    check_tunnel_flags(ngrok, point_twilio)
    if not ngrok:
        settings.require_receiver()
        return embedded(settings, port=port)

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        from wa_inbox.tunnel import tunnel

        async with tunnel(settings, port, point_twilio) as public, embedded(public, port=port)() as services:
            yield services

    return start


@main.command()
@click.option("--attach", is_flag=True, required=True, help="Use the database of a running `wa-inbox serve`.")
@config_option
@db_option
@inbox_agent_option
@friendly_errors
def tui(attach: bool, config_path: Path | None, db_path: str | None, agent_name: str | None) -> None:
    """The inbox on the database a `wa-inbox serve` on this host writes (several agents at once)."""
    from wa_inbox.running.services import attached

    settings = _as_agent(settings_for(config_path, db_path), agent_name)
    if isinstance(settings.store.path, Path):
        if not settings.store.path.is_file():
            raise ConfigError(f"There is no database at {settings.store.path}: start `wa-inbox serve` first.")
        files.check(settings.store.path)
    _run_tui(attached(settings), settings)


def _run_tui(backend: Backend, settings: Settings | None) -> None:
    """The TUI owns the terminal: logs go to a file in the data directory, never to the screen."""
    import textual_image.renderable  # noqa: F401 - asks the terminal for its graphics before Textual owns it

    from wa_inbox.store.writer import start_fork_server
    from wa_inbox.tui.app import InboxApp

    log_dir = platformdirs.user_log_path("wa-inbox")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_format = settings.log.format if settings is not None else "text"
    configure_logging(logging.INFO, log_dir / "wa-inbox.log", log_format)
    if settings is not None:  # a long upgrade shows on the terminal, before the inbox takes it
        upgrade_in_place(settings.store.path, click.echo)
    tui = (settings or Settings()).tui
    app = InboxApp(backend, bell=tui.bell)
    app.set_keymap({"composer.send": tui.send_key, "composer.newline": tui.newline_key})
    start_fork_server()
    app.run()
    if app.return_code:  # the app crashed (its traceback is printed): scripts must see a failure
        raise SystemExit(app.return_code)


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
@click.option("--headless", is_flag=True, help="A live log instead of the inbox (no terminal UI).")
@inbox_agent_option
@friendly_errors
def demo(db_path: Path | None, pace: float, headless: bool, agent_name: str | None) -> None:
    """See the whole product against a built-in Twilio emulator: no account, no network."""
    _checked_agent(agent_name)
    if db_path is not None:
        files.prepare(db_path)
    if not headless:
        from wa_inbox.running.services import demo as demo_backend

        _run_tui(demo_backend(pace, db_path, agent_name), None)
        return
    from wa_inbox.cli.signals import run_until_signalled
    from wa_inbox.demo import run_demo

    configure_logging(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C before the handlers are in place
        asyncio.run(run_until_signalled(run_demo(db_path, pace, click.echo)))
