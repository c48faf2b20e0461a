"""`wa-inbox send`: one message through the outbox, with the policy's refusal or Twilio's verdict."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import agent_for, agent_option
from wa_inbox.cli.common import (
    CommandError,
    config_option,
    db_option,
    echo,
    friendly_errors,
    settings_for,
    twilio_client,
    twilio_refused,
)
from wa_inbox.config import Settings
from wa_inbox.domain.addresses import to_whatsapp
from wa_inbox.domain.models import Message
from wa_inbox.domain.policy import Attachment, Draft
from wa_inbox.domain.status import FAILED
from wa_inbox.store import open_store

if TYPE_CHECKING:  # imported only by the commands that use them
    from twilio.rest import Client


@click.command()
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
@agent_option
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
    agent_name: str | None,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Send one message now and print its SID: text, an attachment or a template."""
    variables = _check_send_flags(body, media_sources, template, pairs)
    sources = [_media_source(value) for value in media_sources]
    to = to_whatsapp(to_addr)
    settings = settings_for(config_path, db_path)
    settings.require_sender()
    agent = agent_for(settings, agent_name)
    draft = Draft(to, body or "", tuple(Attachment(s) for s in sources if isinstance(s, str)), author=agent)
    files = [s for s in sources if isinstance(s, Path)]
    message = asyncio.run(_send(settings, draft, template, variables, files))
    if output == "json":
        echo(json.dumps(rendering.message_record(message), ensure_ascii=False, indent=2))
    _check_sent(message)
    if output == "text":
        echo(message.sid)


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
    from wa_inbox.gateway.lease import new_owner
    from wa_inbox.gateway.media_host import MediaHost
    from wa_inbox.gateway.outbox import Outbox
    from wa_inbox.gateway.submission import Refused
    from wa_inbox.gateway.template_sync import TemplateSync

    store = await open_store(settings.store.path)  # created if missing: a fresh machine may send
    try:
        async with twilio_client(settings) as client:
            if template is not None:
                draft = await _template_draft(client, draft.address, template, variables, draft.author)
            for path in files:  # checked, then copied for the receiver to serve, before anything is queued
                draft = await MediaHost(settings, store).attach(draft, path)
            resync = TemplateSync(client, store).after_error
            outbox = Outbox(settings, store, client, on_template_error=resync, owner=new_owner("send"))
            if draft.author is not None:
                await store.record_agent(draft.author)
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
    client: Client, to: str, name_or_sid: str, variables: dict[str, str], author: str | None
) -> Draft:
    """The template as Twilio has it now; its approval goes with the draft, for the policy to judge."""
    from wa_inbox.gateway.templates import find_template

    template = await find_template(client, name_or_sid)
    return Draft(
        to,
        content_sid=template.sid,
        content_variables=variables,
        template_name=template.name,
        template_approval=template.approval,
        author=author,
    )


def _check_sent(message: Message) -> None:
    """Exit 1 unless Twilio took the message."""
    if message.status in FAILED:
        raise CommandError(twilio_refused("message", message.error_code, message.error_message), 1)
    if message.sid is None:
        raise CommandError(
            "There is no answer from Twilio yet, so the message stays queued as `sending`; "
            "`wa-inbox serve` finds out and records it (see `wa-inbox messages list`).",
            1,
        )
