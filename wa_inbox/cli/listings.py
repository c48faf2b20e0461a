"""`wa-inbox messages` and `wa-inbox conversations`: what is stored (or, with --remote, at Twilio)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.common import (
    config_option,
    db_option,
    echo,
    friendly_errors,
    settings_for,
    twilio_client,
    with_existing_store,
)
from wa_inbox.config import Settings
from wa_inbox.domain.addresses import to_whatsapp
from wa_inbox.domain.models import Direction
from wa_inbox.store import MessageQuery

REMOTE_SCAN = 10_000
"""`messages list --remote` with --status or --direction looks through at most this many messages."""


@click.group()
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
        found = asyncio.run(
            with_existing_store(settings, lambda store: store.list_messages(query), read_only=True)
        )
        records = [rendering.message_record(message) for message in found]
    echo(rendering.render(records, rendering.MESSAGE_COLUMNS, output))


async def _remote_records(settings: Settings, query: MessageQuery) -> list[dict[str, Any]]:
    """Twilio filters by number; status and direction are checked here, reading page by page."""
    numbers = {"to": query.to_addr, "from_": query.from_addr}
    filtered = query.status is not None or query.direction is not None
    records: list[dict[str, Any]] = []
    async with twilio_client(settings) as client:
        remote = await client.messages.stream_async(
            **{name: number for name, number in numbers.items() if number},
            limit=REMOTE_SCAN if filtered else query.limit,
            page_size=1000 if filtered else min(query.limit, 1000),
        )
        async for message in remote:
            record = rendering.remote_message_record(message)
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
    message = asyncio.run(with_existing_store(settings, lambda store: store.get_message(sid), read_only=True))
    if message is None:
        click.echo(f"wa-inbox: no message with SID {sid} in {settings.store.path}.", err=True)
        sys.exit(1)
    record = rendering.message_record(message)
    if output == "json":
        echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        echo(rendering.render([record], rendering.MESSAGE_COLUMNS, output))


@click.group()
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
    found = asyncio.run(
        with_existing_store(settings, lambda store: store.list_conversations(), read_only=True)
    )
    records = [rendering.conversation_record(conversation) for conversation in found]
    echo(rendering.render(records, rendering.CONVERSATION_COLUMNS, output))
