"""`wa-inbox messages` and `wa-inbox conversations`: what is stored (or, with --remote, at Twilio)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import agent_for, agent_option, check_agent_name, status_filter
from wa_inbox.cli.common import (
    CommandError,
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

if TYPE_CHECKING:  # the SDK is imported only by the commands that talk to Twilio
    from twilio.rest.api.v2010.account.message import MessageInstance

T = TypeVar("T")

REMOTE_SCAN = 10_000
"""`messages list --remote` with --status or --direction looks through at most this many messages."""
PAGE = 1000
"""Records read from the store (or Twilio) and written out at a time: what a listing holds in memory;
`messages list --page-size` changes it (Twilio's own limit is also 1000)."""
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")


@click.group()
def messages() -> None:
    """List and show stored messages."""


@messages.command("list")
@click.option("--to", "to_addr", help="Only messages to this number.")
@click.option("--from", "from_addr", help="Only messages from this number.")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Only inbound or outbound.")
@click.option("--status", help="Only messages in this status (queued, sent, delivered, read, failed, …).")
@click.option("--date-sent", metavar="YYYY-MM-DD", help="Only messages of this day (UTC).")
@click.option("--date-sent-after", metavar="YYYY-MM-DD", help="Only messages of this day (UTC) or later.")
@click.option("--date-sent-before", metavar="YYYY-MM-DD", help="Only messages of this day (UTC) or earlier.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(0), help="At most this many; 0 for all."
)
@click.option(
    "--page-size",
    metavar="N",
    default=str(PAGE),
    show_default=True,
    help="Records read (from the database, or from Twilio) and written at a time, 1 to 1000.",
)
@click.option(
    "--properties",
    metavar="KEY,KEY,…",
    help="Only these keys of each record, in this order: the columns for tsv and csv, the keys for json.",
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
    date_sent: str | None,
    date_sent_after: str | None,
    date_sent_before: str | None,
    limit: int,
    page_size: str,
    properties: str | None,
    remote: bool,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Newest first, written as they are read (a page at a time), so that `--limit 0` of a year is a pipe.

    The --date-sent options take days in UTC, as Twilio's DateSent filters do: --date-sent D is that
    day, --date-sent-after D is D and every day after, --date-sent-before D is D and every day before
    (both include D). Locally a message's date is when it was stored (`created_at`: when it came in,
    or was queued), and a listing by date is newest first by that time.
    """
    days = Days.of(date_sent, date_sent_after, date_sent_before)
    since, before = days.period()
    query = MessageQuery(
        to_addr=to_whatsapp(to_addr) if to_addr else None,
        from_addr=to_whatsapp(from_addr) if from_addr else None,
        direction=Direction(direction) if direction else None,
        status=status,
        limit=limit,
        created_since=since,
        created_before=before,
    )
    size = _page_size_option(page_size)
    try:
        keys = rendering.message_properties(properties)
    except ValueError as error:
        raise CommandError(str(error)) from None
    settings = settings_for(config_path, db_path)
    out = rendering.RecordStream(keys or rendering.MESSAGE_COLUMNS, output, _write)
    project = rendering.projection(keys)
    with _quiet_when_the_reader_leaves():
        if remote:
            asyncio.run(_remote_records(settings, query, days, size, project, out))
        else:
            asyncio.run(
                with_existing_store(
                    settings, lambda store: _local_records(store, query, out, size, project), read_only=True
                )
            )
        out.end()


@dataclass(frozen=True, slots=True)
class Days:
    """The --date-sent options as days (UTC), each None when not given."""

    on: date | None = None
    after: date | None = None
    """This day and every day after it."""
    before: date | None = None
    """This day and every day before it."""

    @classmethod
    def of(cls, on: str | None, after: str | None, before: str | None) -> Days:
        return cls(
            _day("--date-sent", on), _day("--date-sent-after", after), _day("--date-sent-before", before)
        )

    def period(self) -> tuple[datetime | None, datetime | None]:
        """The times the days cover: from the first one's midnight (UTC), until the midnight after the
        last one (excluded); None where unbounded."""
        firsts = [day for day in (self.on, self.after) if day]
        lasts = [day for day in (self.on, self.before) if day]
        since = _midnight(max(firsts)) if firsts else None
        until = _midnight(min(lasts) + timedelta(days=1)) if lasts else None
        return since, until

    def twilio_filters(self) -> dict[str, str]:
        """The same days as the SDK's DateSent filters (YYYY-MM-DD, as Twilio documents them)."""
        named = {"date_sent": self.on, "date_sent_after": self.after, "date_sent_before": self.before}
        return {name: day.isoformat() for name, day in named.items() if day is not None}


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{option} {value!r} is not a day: give it as YYYY-MM-DD (UTC), such as 2025-06-02."
        ) from None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _page_size_option(value: str) -> int:
    """--page-size as a number from 1 to 1000 (Twilio's largest page), else one sentence."""
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 1000):
        raise CommandError(f"--page-size {value!r} is not a number from 1 to 1000: give one, such as 200.")
    return int(value)


async def _local_records(
    store: Store,
    query: MessageQuery,
    out: rendering.RecordStream,
    page_size: int | None = None,
    project: Callable[[dict[str, Any]], dict[str, Any]] = rendering.whole,
) -> None:
    """Newest first, along the message ids (keyset, `before_id`), or along their times with a date;
    `page_size` at a time (None: `PAGE`), each record cut by `project`."""

    def read(size: int, last: Message | None) -> Awaitable[list[Message]]:
        return store.list_messages(replace(query, limit=size, before_id=last.id if last else None))

    def record(message: Message) -> dict[str, Any]:
        return project(rendering.message_record(message))

    await _stream(read, query.limit or None, record, out, page_size)


async def _remote_records(
    settings: Settings,
    query: MessageQuery,
    days: Days,
    page_size: int,
    project: Callable[[dict[str, Any]], dict[str, Any]],
    out: rendering.RecordStream,
) -> None:
    """Twilio filters by number and day; status and direction are checked here, reading page by page."""
    filters: dict[str, str] = {"to": query.to_addr or "", "from_": query.from_addr or ""}
    filters = {name: value for name, value in filters.items() if value} | days.twilio_filters()
    filtered = query.status is not None or query.direction is not None
    wanted = query.limit or None
    records: list[dict[str, Any]] = []
    found = 0
    async with twilio_client(settings) as client:
        remote = await client.messages.stream_async(
            **filters,
            limit=REMOTE_SCAN if filtered else wanted,
            page_size=page_size if filtered else _page_size(wanted, page_size),
        )
        async for message in remote:
            record = rendering.remote_message_record(message)
            if query.status in (None, record["status"]) and query.direction in (None, record["direction"]):
                records.append(project(record))
                found += 1
            if len(records) == page_size:
                out.page(records)
                records = []
            if found == wanted:
                break
    out.page(records)


@messages.command("fetch")
@click.argument("sid")
@click.option("--remote", is_flag=True, help="Fetch it from Twilio instead of the local database.")
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="json", show_default=True)
@config_option
@db_option
@friendly_errors
def messages_fetch(
    sid: str, remote: bool, output: str, config_path: Path | None, db_path: str | None
) -> None:
    """One message by its SID: as stored here, or (--remote) as Twilio has it now."""
    settings = settings_for(config_path, db_path)
    if remote:
        if not _MESSAGE_SID.fullmatch(sid):
            raise CommandError(
                f"{sid!r} is not a message SID: give one such as SM followed by 32 hex digits."
            )
        instance = asyncio.run(_fetch_remote(settings, sid))
        if instance is None:
            raise CommandError(f"no message with SID {sid} at Twilio.", 1)
        record = rendering.remote_message_record(instance)
    else:
        message = asyncio.run(
            with_existing_store(settings, lambda store: store.get_message(sid), read_only=True)
        )
        if message is None:
            click.echo(f"wa-inbox: no message with SID {sid} in {settings.store.path}.", err=True)
            sys.exit(1)
        record = rendering.message_record(message)
    if output == "json":
        echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        echo(rendering.render([record], rendering.MESSAGE_COLUMNS, output))


async def _fetch_remote(settings: Settings, sid: str) -> MessageInstance | None:
    """The message as Twilio has it; None when Twilio has none with this SID (404)."""
    from twilio.base.exceptions import TwilioRestException

    async with twilio_client(settings) as client:
        try:
            return await client.messages(sid).fetch_async()
        except TwilioRestException as error:
            if error.status == 404:
                return None
            raise


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
    page_size: int | None = None,
) -> None:
    """Write `left` rows (None: all) `page_size` at a time (None: `PAGE`), `read(size, last row so
    far)` giving each page; the next page is read while this one is written."""
    page_size = page_size or PAGE
    page = asyncio.ensure_future(read(_page_size(left, page_size), None))
    try:
        while True:
            rows = await page
            size = _page_size(left, page_size)
            if left is not None:
                left -= len(rows)
            more = len(rows) == size and left != 0
            if more:
                page = asyncio.ensure_future(read(_page_size(left, page_size), rows[-1]))
            out.page([record(row) for row in rows])
            if not more:
                return
    finally:
        page.cancel()  # the read ahead, when the output failed (the reader left)


def _page_size(left: int | None, page_size: int | None = None) -> int:
    """A page of `page_size` (None: `PAGE`), or fewer when only `left` more are wanted (None: all)."""
    size = page_size or PAGE
    return size if left is None else min(size, left)


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
