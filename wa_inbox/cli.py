"""The `wa-inbox` command line: each command wires the parts together and turns errors into sentences."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlsplit
from urllib.request import url2pathname

import click
import platformdirs

from wa_inbox import listing
from wa_inbox.config import ConfigError, Settings, load_settings
from wa_inbox.domain.addresses import InvalidAddress, to_whatsapp
from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import Direction, Message
from wa_inbox.domain.policy import Attachment, Draft
from wa_inbox.domain.status import FAILURES
from wa_inbox.logs import configure_logging
from wa_inbox.serving import bind
from wa_inbox.store import MessageQuery, Store, open_store

if TYPE_CHECKING:  # the SDK and the TUI are imported only by the commands that use them
    from twilio.rest import Client

    from wa_inbox.domain.templates import TemplateInfo
    from wa_inbox.tui.services import Backend, Services

log = logging.getLogger("wa_inbox")
P = ParamSpec("P")
R = TypeVar("R")
REMOTE_SCAN = 10_000
"""`messages list --remote` with --status or --direction looks through at most this many messages."""

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML settings file (default: $WA_INBOX_CONFIG, else the XDG config dir).",
)
ngrok_option = click.option(
    "--ngrok", is_flag=True, help="Tunnel to the receiver through ngrok; its https URL is PUBLIC_BASE_URL."
)
point_twilio_option = click.option(
    "--point-twilio",
    is_flag=True,
    help="With --ngrok: point the Messaging Service's webhooks at the tunnel, and back on exit.",
)
DOCTOR_MARKS = {"passed": "✓", "failed": "✗", "skipped": "–"}
db_option = click.option(
    "--db", "db_path", type=click.Path(path_type=Path, dir_okay=False), help="SQLite database file."
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
        except (ConfigError, InvalidAddress) as error:
            click.echo(f"wa-inbox: {error}", err=True)
            sys.exit(2)
        except CommandError as error:
            click.echo(f"wa-inbox: {error}", err=True)
            sys.exit(error.status)

    return wrapper


def settings_for(config_path: Path | None, db_path: Path | None) -> Settings:
    settings = load_settings(config_path)
    if db_path is not None:
        settings = settings.model_copy(update={"store": settings.store.model_copy(update={"path": db_path})})
    return settings


async def _with_existing_store(settings: Settings, use: Callable[[Store], Awaitable[R]]) -> R:
    if not settings.store.path.is_file():
        raise ConfigError(
            f"There is no database at {settings.store.path}: start `wa-inbox serve` first, "
            "or point WA_INBOX_DB (or --db) at an existing one."
        )
    try:
        store = await open_store(settings.store.path)
    except sqlite3.DatabaseError as error:
        raise ConfigError(
            f"{settings.store.path} is not a wa-inbox database ({error}): "
            "point WA_INBOX_DB (or --db) at the file `wa-inbox serve` writes."
        ) from None
    try:
        return await use(store)
    finally:
        await store.close()


@click.group(invoke_without_command=True)
@click.version_option(package_name="wa-inbox")
@click.option("--port", default=8080, show_default=True, help="Port of the embedded receiver.")
@ngrok_option
@point_twilio_option
@config_option
@db_option
@click.pass_context
@friendly_errors
def main(
    ctx: click.Context,
    port: int,
    ngrok: bool,
    point_twilio: bool,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """A terminal agent inbox for WhatsApp Business over Twilio.

    With no command: the inbox, with the webhook receiver running inside it (local development
    behind ngrok). On a server, run `wa-inbox serve` and open agents' inboxes with `wa-inbox tui --attach`.
    """
    if ctx.invoked_subcommand is None:
        settings = settings_for(config_path, db_path)
        _run_tui(_embedded(settings, port, ngrok, point_twilio), settings)


def _embedded(settings: Settings, port: int, ngrok: bool, point_twilio: bool) -> Backend:
    """The inbox's own receiver and sender; with --ngrok they start inside the tunnel."""
    from wa_inbox.tui.services import embedded

    _check_tunnel_flags(ngrok, point_twilio)
    if not ngrok:
        settings.require_receiver()
        return embedded(settings, port=port)

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        from wa_inbox.tunnel import tunnel

        async with tunnel(settings, port, point_twilio) as public, embedded(public, port=port)() as services:
            yield services

    return start


def _check_tunnel_flags(ngrok: bool, point_twilio: bool) -> None:
    if point_twilio and not ngrok:
        raise CommandError("--point-twilio points Twilio at the ngrok tunnel: use it with --ngrok.")


@main.command()
@click.option("--attach", is_flag=True, required=True, help="Use the database of a running `wa-inbox serve`.")
@config_option
@db_option
@friendly_errors
def tui(attach: bool, config_path: Path | None, db_path: Path | None) -> None:
    """The inbox on the database a `wa-inbox serve` on this host writes (several agents at once)."""
    from wa_inbox.tui.services import attached

    settings = settings_for(config_path, db_path)
    _run_tui(attached(settings), settings)


def _run_tui(backend: Backend, settings: Settings | None) -> None:
    """The TUI owns the terminal: logs go to a file in the data directory, never to the screen."""
    from wa_inbox.tui.app import InboxApp

    log_dir = platformdirs.user_log_path("wa-inbox")
    log_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(logging.INFO, log_dir / "wa-inbox.log")
    InboxApp(backend).run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, help="Port to listen on.")
@ngrok_option
@point_twilio_option
@config_option
@db_option
@friendly_errors
def serve(
    host: str, port: int, ngrok: bool, point_twilio: bool, config_path: Path | None, db_path: Path | None
) -> None:
    """Run the webhook receiver headless (systemd, one host; agents attach to its database)."""
    settings = settings_for(config_path, db_path)
    _check_tunnel_flags(ngrok, point_twilio)
    if not ngrok:  # with --ngrok the tunnel supplies the public URL
        settings.require_receiver()
    configure_logging(logging.INFO)
    try:
        sock = bind(host, port)
    except OSError as error:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({error.strerror}): pass another --port."
        ) from None
    asyncio.run(_serve_through_ngrok(settings, sock, point_twilio) if ngrok else _serve(settings, sock))


async def _serve_through_ngrok(settings: Settings, sock: socket.socket, point_twilio: bool) -> None:
    from wa_inbox.tunnel import tunnel

    async with tunnel(settings, sock.getsockname()[1], point_twilio) as public:
        await _serve(public, sock)


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
@click.option("--headless", is_flag=True, help="A live log instead of the inbox (no terminal UI).")
@friendly_errors
def demo(db_path: Path | None, pace: float, headless: bool) -> None:
    """See the whole product against a built-in Twilio emulator: no account, no network."""
    if not headless:
        from wa_inbox.tui.services import demo as demo_backend

        _run_tui(demo_backend(pace, db_path), None)
        return
    from wa_inbox.demo import run_demo

    configure_logging(logging.WARNING)
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
@click.option("--remote", is_flag=True, help="Ask Twilio instead of the local database.")
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
    remote: bool,
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
    if remote:
        records = asyncio.run(_remote_records(settings, query))
    else:
        found = asyncio.run(_with_existing_store(settings, lambda store: store.list_messages(query)))
        records = [listing.message_record(message) for message in found]
    _echo(listing.render(records, listing.MESSAGE_COLUMNS, output))


async def _remote_records(settings: Settings, query: MessageQuery) -> list[dict[str, Any]]:
    """Twilio filters by number; status and direction are checked here, reading page by page."""
    numbers = {"to": query.to_addr, "from_": query.from_addr}
    filtered = query.status is not None or query.direction is not None
    records: list[dict[str, Any]] = []
    async with _twilio(settings) as client:
        remote = await client.messages.stream_async(
            **{name: number for name, number in numbers.items() if number},
            limit=REMOTE_SCAN if filtered else query.limit,
            page_size=1000 if filtered else min(query.limit, 1000),
        )
        async for message in remote:
            record = listing.remote_message_record(message)
            if query.status in (None, record["status"]) and query.direction in (None, record["direction"]):
                records.append(record)
            if len(records) == query.limit:
                break
    return records


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


@main.group()
def templates() -> None:
    """The account's WhatsApp templates, as last synced from Twilio's Content API."""


@templates.command("sync")
@config_option
@db_option
@friendly_errors
def templates_sync(config_path: Path | None, db_path: Path | None) -> None:
    """Read every template, and WhatsApp's verdict on it, from Twilio into the database."""
    settings = settings_for(config_path, db_path)
    synced = asyncio.run(_sync_templates(settings))
    verdicts = Counter(template.approval for template in synced)
    summary = ", ".join(f"{count} {approval}" for approval, count in sorted(verdicts.items()))
    _echo(f"Synced {len(synced)} templates" + (f": {summary}." if summary else "."))


async def _sync_templates(settings: Settings) -> list[TemplateInfo]:
    from wa_inbox.gateway.template_sync import sync_templates

    store = await open_store(settings.store.path)  # created if missing, as `send` does
    try:
        async with _twilio(settings) as client:
            return await sync_templates(client, store)
    finally:
        await store.close()


@templates.command("list")
@click.option("--output", type=click.Choice(["json", "tsv"]), default="tsv", show_default=True)
@config_option
@db_option
@friendly_errors
def templates_list(output: str, config_path: Path | None, db_path: Path | None) -> None:
    """By name, as last synced (by `templates sync`, or by `serve` and the inbox at start-up)."""
    settings = settings_for(config_path, db_path)
    found = asyncio.run(_with_existing_store(settings, lambda store: store.list_templates()))
    if not found:
        click.echo("wa-inbox: no templates are stored yet: run `wa-inbox templates sync`.", err=True)
    records = [listing.template_record(template) for template in found]
    _echo(listing.render(records, listing.TEMPLATE_COLUMNS, output))


@main.command()
@config_option
@db_option
@friendly_errors
def doctor(config_path: Path | None, db_path: Path | None) -> None:
    """Check the setup, one line per check with the fix for each failure; exit status 1 if one fails."""
    from wa_inbox.doctor import Verdict, run_checks

    settings = settings_for(config_path, db_path)
    results = asyncio.run(run_checks(settings))
    for result in results:
        _echo(f"{DOCTOR_MARKS[result.verdict]} {result.name}: {result.detail}")
        if result.fix:
            _echo(f"  → {result.fix}")
    if any(result.verdict is Verdict.FAILED for result in results):
        sys.exit(1)


@main.command()
@click.option("--to", "to_addr", required=True, help="The customer's number, like +14155550100.")
@click.option("--body", help="The text; with --media, the caption.")
@click.option(
    "--media",
    "media_sources",
    multiple=True,
    help="A file to attach: a public http(s) URL, or a local file, which `wa-inbox serve` "
    "(same data dir) then serves to Twilio at PUBLIC_BASE_URL through a signed, expiring link.",
)
@click.option("--template", help="A template's name, or its content SID (HX…).")
@click.option("--var", "pairs", multiple=True, help="A template variable, like 1=Ava (repeatable).")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@config_option
@db_option
@friendly_errors
def send(
    to_addr: str,
    body: str | None,
    media_sources: tuple[str, ...],
    template: str | None,
    pairs: tuple[str, ...],
    output: str,
    config_path: Path | None,
    db_path: Path | None,
) -> None:
    """Send one message now and print its SID: text, an attachment or a template."""
    variables = _check_send_flags(body, media_sources, template, pairs)
    sources = [_media_source(value) for value in media_sources]
    to = to_whatsapp(to_addr)
    settings = settings_for(config_path, db_path)
    settings.require_sender()
    draft = Draft(to, body or "", tuple(Attachment(s) for s in sources if isinstance(s, str)))
    files = [s for s in sources if isinstance(s, Path)]
    message = asyncio.run(_send(settings, draft, template, variables, files))
    if output == "json":
        _echo(json.dumps(listing.message_record(message), ensure_ascii=False, indent=2))
    _check_sent(message)
    if output == "text":
        _echo(message.sid)


def _check_send_flags(
    body: str | None, media_urls: tuple[str, ...], template: str | None, pairs: tuple[str, ...]
) -> dict[str, str]:
    """Exactly one kind of message; returns the template variables."""
    if template is not None and (body is not None or media_urls):
        raise CommandError("A template carries its own text: give --template without --body or --media.")
    if template is None and body is None and not media_urls:
        raise CommandError("Say what to send: --body TEXT, --media URL (caption in --body) or --template.")
    if pairs and template is None:
        raise CommandError("--var fills in a template's variables: use it with --template.")
    return _template_variables(pairs)


def _media_source(value: str) -> str | Path:
    """A public URL, sent as given, or a local file to publish through the receiver."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        return value
    if parts.scheme not in ("", "file"):
        raise CommandError(
            f"--media {value} is not an http(s) URL nor a local file: Twilio fetches attachments from one."
        )
    path = Path(url2pathname(parts.path)) if parts.scheme == "file" else Path(value)
    if not path.is_file():
        raise CommandError(
            f"--media {value}: there is no such local file; check the path, or pass a public https:// URL."
        )
    return path


def _template_variables(pairs: tuple[str, ...]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not (equals and key.isascii() and key.isdigit()):
            raise CommandError(f"--var {pair} is not NUMBER=TEXT: write it like --var 1=Ava.")
        variables[key] = value
    return variables


async def _send(
    settings: Settings, draft: Draft, template: str | None, variables: dict[str, str], files: list[Path]
) -> Message:
    """Queue it (policy first), then deliver it at once in this process; returns the stored outcome."""
    from wa_inbox.gateway.media_host import MediaHost
    from wa_inbox.gateway.outbox import Outbox, Refused
    from wa_inbox.gateway.template_sync import TemplateSync

    store = await open_store(settings.store.path)  # created if missing: a fresh machine may send
    try:
        async with _twilio(settings) as client:
            if template is not None:
                draft = await _template_draft(client, store, draft.to, template, variables)
            for path in files:  # checked, then copied for the receiver to serve, before anything is queued
                draft = await MediaHost(settings, store).attach(draft, path)
            resync = TemplateSync(client, store).after_error
            outbox = Outbox(settings, store, client, on_template_error=resync)
            message_id = await outbox.submit(draft)
            await outbox.send_now(message_id)
        message = await store.get_message_by_id(message_id)
    except Refused as error:
        raise CommandError(str(error)) from None
    finally:
        await store.close()
    assert message is not None  # queued above; nothing deletes outbound rows
    return message


async def _template_draft(
    client: Client, store: Store, to: str, name_or_sid: str, variables: dict[str, str]
) -> Draft:
    from wa_inbox.gateway.outbox import Refused
    from wa_inbox.gateway.templates import find_template, template_refusal

    template = await find_template(client, name_or_sid)
    if reason := template_refusal(template, await store.get_contact(to), datetime.now(UTC)):
        raise Refused(reason)
    return Draft(to, content_sid=template.sid, content_variables=variables)


def _check_sent(message: Message) -> None:
    """Exit 1 unless Twilio took the message."""
    if message.status in FAILURES:
        raise CommandError(_twilio_refused("message", message.error_code, message.error_message), 1)
    if message.sid is None:
        raise CommandError(
            "There is no answer from Twilio yet, so the message stays queued as `sending`; "
            "`wa-inbox serve` finds out and records it (see `wa-inbox messages list`).",
            1,
        )


@contextlib.asynccontextmanager
async def _twilio(settings: Settings) -> AsyncIterator[Client]:
    """The SDK client, closed after use; a refused request or an unreachable Twilio is one sentence."""
    import httpx
    from twilio.base.exceptions import TwilioRestException

    from wa_inbox.gateway.client import make_twilio_client

    client = make_twilio_client(settings)
    try:
        yield client
    except TwilioRestException as error:
        raise CommandError(_twilio_refused("request", error.code, error.msg), 1) from None
    except httpx.TransportError as error:
        raise CommandError(
            f"Twilio cannot be reached ({type(error).__name__}): check the network, "
            "and WA_INBOX_TWILIO_BASE_URL if it is set.",
            1,
        ) from None
    finally:
        await client.http_client.close()  # type: ignore[attr-defined]


def _twilio_refused(what: str, code: int | None, message: str | None) -> str:
    """`error N — meaning action` from the catalogue; Twilio's own words for a code it lacks."""
    if code is None:
        return message or f"Twilio did not take the {what}."
    info = describe(code)
    why = f"{info.meaning} {info.action}" if info else message or "no reason given."
    return f"Twilio refused the {what}: error {code} — {why}"


def _echo(text: Any) -> None:
    if text:
        click.echo(text)
