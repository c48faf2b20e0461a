"""`wa-inbox messages` and `wa-inbox conversations`: what is stored (or, with --remote, at Twilio)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import agent_for, agent_option, check_agent_name, status_filter
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
from wa_inbox.domain.models import Conversation, Direction, Message
from wa_inbox.store import ConversationFilter, MessageQuery, Store

T = TypeVar("T")

REMOTE_SCAN = 10_000
"""`messages list --remote` with --status or --direction looks through at most this many messages."""
PAGE = 1000
"""Records read from the store (or Twilio) and written out at a time: what a listing holds in memory."""


@click.group()
def messages() -> None:
    """List and show stored messages."""


@messages.command("list")
@click.option("--to", "to_addr", help="Only messages to this number.")
@click.option("--from", "from_addr", help="Only messages from this number.")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Only inbound or outbound.")
@click.option("--status", help="Only messages in this status (queued, sent, delivered, read, failed, …).")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(0), help="At most this many; 0 for all."
)
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
    db_path: str | None,
) -> None:
    """Newest first, written as they are read (a page at a time), so that `--limit 0` of a year is a pipe."""
    query = MessageQuery(
        to_addr=to_whatsapp(to_addr) if to_addr else None,
        from_addr=to_whatsapp(from_addr) if from_addr else None,
        direction=Direction(direction) if direction else None,
        status=status,
        limit=limit,
    )
    settings = settings_for(config_path, db_path)
    out = rendering.RecordStream(rendering.MESSAGE_COLUMNS, output, _write)
    with _quiet_when_the_reader_leaves():
        if remote:
            asyncio.run(_remote_records(settings, query, out))
        else:
            asyncio.run(
                with_existing_store(settings, lambda store: _local_records(store, query, out), read_only=True)
            )
        out.end()


async def _local_records(store: Store, query: MessageQuery, out: rendering.RecordStream) -> None:
    """Newest first, along the message ids (keyset, `before_id`)."""

    def read(size: int, last: Message | None) -> Awaitable[list[Message]]:
        return store.list_messages(replace(query, limit=size, before_id=last.id if last else None))

    await _stream(read, query.limit or None, rendering.message_record, out)


async def _remote_records(settings: Settings, query: MessageQuery, out: rendering.RecordStream) -> None:
    """Twilio filters by number; status and direction are checked here, reading page by page."""
    numbers = {"to": query.to_addr, "from_": query.from_addr}
    filtered = query.status is not None or query.direction is not None
    wanted = query.limit or None
    records: list[dict[str, Any]] = []
    found = 0
    async with twilio_client(settings) as client:
        remote = await client.messages.stream_async(
            **{name: number for name, number in numbers.items() if number},
            limit=REMOTE_SCAN if filtered else wanted,
            page_size=PAGE if filtered else _page_size(wanted),
        )
        async for message in remote:
            record = rendering.remote_message_record(message)
            if query.status in (None, record["status"]) and query.direction in (None, record["direction"]):
                records.append(record)
                found += 1
            if len(records) == PAGE:
                out.page(records)
                records = []
            if found == wanted:
                break
    out.page(records)


@messages.command("fetch")
@click.argument("sid")
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="json", show_default=True)
@config_option
@db_option
@friendly_errors
def messages_fetch(sid: str, output: str, config_path: Path | None, db_path: str | None) -> None:
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
    """List conversations; assign them, set their status, snooze and label them."""


@conversations.command("list")
@click.option("--assignee", help="Only those assigned to this agent; `none` for those assigned to nobody.")
@click.option("--status", help="Only those in this status: open, pending, snoozed or resolved.")
@click.option("--label", help="Only those with this label.")
@click.option(
    "--limit", default=0, show_default=True, type=click.IntRange(0), help="At most this many; 0 for all."
)
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="tsv", show_default=True)
@agent_option
@config_option
@db_option
@friendly_errors
def conversations_list(
    assignee: str | None,
    status: str | None,
    label: str | None,
    limit: int,
    output: str,
    agent_name: str | None,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """By latest activity, written a page at a time as they are read; unread counts are --agent's,
    once that agent has used wa-inbox (anyone's before)."""
    if assignee is not None and assignee != "none":
        check_agent_name(assignee, "--assignee")
    where = ConversationFilter(
        assignee=None if assignee in (None, "none") else assignee,
        unassigned=assignee == "none",
        statuses=status_filter(status),
        label=label.strip() if label is not None else None,
    )
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)
    out = rendering.RecordStream(rendering.CONVERSATION_COLUMNS, output, _write)

    async def use(store: Store) -> None:
        seen = agent in {known.name for known in await store.list_agents()}
        reader = agent if seen else None  # an agent never seen has no read marks: anyone's unread
        await _conversations(store, limit or None, out, where, reader)

    with _quiet_when_the_reader_leaves():
        asyncio.run(with_existing_store(settings, use, read_only=True))
        out.end()


async def _conversations(
    store: Store,
    left: int | None,
    out: rendering.RecordStream,
    where: ConversationFilter | None = None,
    agent: str | None = None,
) -> None:
    """Page by page along the read model's index (`after=`), the next read while this one is written;
    only those `where` covers, with `agent`'s unread counts."""
    wanted: dict[str, Any] = {}  # only what is asked, so that the plain listing asks what it always did
    if where is not None and where != ConversationFilter():
        wanted["where"] = where
    if agent is not None:
        wanted["agent"] = agent

    def read(size: int, last: Conversation | None) -> Awaitable[list[Conversation]]:
        return store.list_conversations(limit=size, after=last, **wanted)

    await _stream(read, left, rendering.conversation_record, out)


async def _stream(
    read: Callable[[int, T | None], Awaitable[list[T]]],
    left: int | None,
    record: Callable[[T], dict[str, Any]],
    out: rendering.RecordStream,
) -> None:
    """Write `left` rows (None: all) a page at a time, `read(size, last row so far)` giving each
    page; the next page is read while this one is written."""
    page = asyncio.ensure_future(read(_page_size(left), None))
    try:
        while True:
            rows = await page
            size = _page_size(left)
            if left is not None:
                left -= len(rows)
            more = len(rows) == size and left != 0
            if more:
                page = asyncio.ensure_future(read(_page_size(left), rows[-1]))
            out.page([record(row) for row in rows])
            if not more:
                return
    finally:
        page.cancel()  # the read ahead, when the output failed (the reader left)


def _page_size(left: int | None) -> int:
    """A page of PAGE, or fewer when only `left` more are wanted (None: all)."""
    return PAGE if left is None else min(PAGE, left)


def _write(text: str) -> None:
    click.echo(text, nl=False)


@contextlib.contextmanager
def _quiet_when_the_reader_leaves() -> Iterator[None]:
    """`wa-inbox messages list --limit 0 | head`: the reader closing the pipe ends the listing quietly
    (status 0), as it does `cat`'s output, rather than with a traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit, and would complain: point it at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
