"""The team inbox from the command line (#14): `wa-inbox conversations assign|status|snooze|label`,
who a conversation belongs to, its status and its labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import (
    address_of,
    agent_for,
    agent_option,
    check_agent_name,
    conversation_of,
    in_store,
    output_option,
    print_conversation,
    require_contact,
)
from wa_inbox.cli.common import CommandError, config_option, db_option, friendly_errors, settings_for
from wa_inbox.cli.listings import conversations
from wa_inbox.domain.addresses import e164
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.models import Conversation
from wa_inbox.domain.team import ConversationStatus
from wa_inbox.store import Store

SETTABLE = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.RESOLVED)
"""What `conversations status` sets; a snooze needs its time (`conversations snooze`)."""


# --- conversations assign ---------------------------------------------------------------------------


@conversations.command("assign")
@click.argument("address")
@click.option("--to", "assignee", help="The agent to give it to (one who has used wa-inbox before).")
@click.option("--unassign", is_flag=True, help="Give it to nobody.")
@agent_option
@output_option
@config_option
@db_option
@friendly_errors
def assign(
    address: str,
    assignee: str | None,
    unassign: bool,
    agent_name: str | None,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Give the conversation with ADDRESS to an agent (--to NAME), or to nobody (--unassign)."""
    if (assignee is None) == (not unassign):
        raise CommandError("Say who gets the conversation: --to NAME, or --unassign for nobody.")
    if assignee is not None:
        check_agent_name(assignee, "--to")
    to = address_of(address)
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)

    async def use(store: Store) -> tuple[bool, Conversation]:
        await require_contact(store, to)
        if assignee is not None and assignee != agent:
            known = sorted(a.name for a in await store.list_agents())
            if assignee not in known:
                names = ", ".join(known) if known else "none yet"
                raise CommandError(
                    f"--to {assignee}: there is no agent of that name (known: {names}); an agent is known "
                    "once they have used wa-inbox with that name."
                )
        await store.record_agent(agent)
        changed = await store.assign(to, assignee, agent)
        return changed, await conversation_of(store, to, agent)

    changed, conversation = in_store(settings, use)
    number = e164(to)
    if assignee is None:
        sentence = (
            f"{number} is now assigned to nobody." if changed else f"{number} was assigned to nobody already."
        )
    else:
        sentence = (
            f"{number} is now assigned to {assignee}." if changed else f"{number} was {assignee}'s already."
        )
    print_conversation(conversation, output, sentence)


# --- conversations status / snooze ------------------------------------------------------------------


@conversations.command("status")
@click.argument("address")
@click.argument("status")
@agent_option
@output_option
@config_option
@db_option
@friendly_errors
def status(
    address: str,
    status: str,
    agent_name: str | None,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Set the conversation's STATUS: open, pending (waiting on the customer) or resolved."""
    if status == ConversationStatus.SNOOZED:
        raise CommandError(
            "A snooze needs its end: use `wa-inbox conversations snooze ADDRESS --until TIME`."
        )
    if status not in SETTABLE:
        raise CommandError(
            f"{status!r} is not a conversation status: give open, pending or resolved "
            "(or `wa-inbox conversations snooze ADDRESS --until TIME`)."
        )
    _set_status(address, status, None, agent_name, output, config_path, db_path)


@conversations.command("snooze")
@click.argument("address")
@click.option(
    "--until",
    "until_text",
    required=True,
    help="When it comes back by itself: an ISO 8601 time with its offset, like 2025-06-02T17:00:00Z.",
)
@agent_option
@output_option
@config_option
@db_option
@friendly_errors
def snooze(
    address: str,
    until_text: str,
    agent_name: str | None,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Snooze the conversation: out of the default views until --until (or until the customer writes)."""
    until = parse_until(until_text, utc_now())
    _set_status(address, ConversationStatus.SNOOZED, until, agent_name, output, config_path, db_path)


def parse_until(text: str, now: datetime) -> datetime:
    """An ISO 8601 time with an offset (or Z), still to come; in UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--until {text!r} is not an ISO 8601 time: write it like 2025-06-02T17:00:00Z "
            "or 2025-06-02T14:00:00-03:00."
        ) from None
    if moment.tzinfo is None:
        raise CommandError(
            f"--until {text} has no UTC offset: add Z or one like -03:00, "
            "so that it is the same moment for everyone."
        )
    moment = moment.astimezone(UTC)
    if moment <= now:
        raise CommandError(f"--until {text} is in the past: a snooze ends at a time still to come.")
    return moment


def _set_status(
    address: str,
    status: str,
    until: datetime | None,
    agent_name: str | None,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    to = address_of(address)
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)

    async def use(store: Store) -> tuple[bool, Conversation]:
        await require_contact(store, to)
        await store.record_agent(agent)
        changed = await store.set_conversation_status(to, status, agent, until)
        return changed, await conversation_of(store, to, agent)

    changed, conversation = in_store(settings, use)
    what = f"snoozed until {rendering.iso(until)}" if until is not None else status
    number = e164(to)
    print_conversation(
        conversation, output, f"{number} is now {what}." if changed else f"{number} was {what} already."
    )


# --- conversations label ----------------------------------------------------------------------------


@conversations.command("label")
@click.argument("address")
@click.argument("label")
@click.option("--remove", is_flag=True, help="Take the label off instead.")
@agent_option
@output_option
@config_option
@db_option
@friendly_errors
def label(
    address: str,
    label: str,
    remove: bool,
    agent_name: str | None,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Put LABEL on the conversation with ADDRESS (or take it off, with --remove)."""
    name = check_label(label)
    to = address_of(address)
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)

    async def use(store: Store) -> tuple[bool, Conversation]:
        await require_contact(store, to)
        await store.record_agent(agent)
        changed = await store.set_label(to, name, not remove, agent)
        return changed, await conversation_of(store, to, agent)

    changed, conversation = in_store(settings, use)
    number = e164(to)
    if remove:
        sentence = (
            f"{number} no longer has the label {name}." if changed else f"{number} had no label {name}."
        )
    else:
        sentence = (
            f"{number} now has the label {name}." if changed else f"{number} had the label {name} already."
        )
    print_conversation(conversation, output, sentence)


def check_label(label: str) -> str:
    """A label as typed, trimmed: a cell of a TSV row and of a comma-separated list, so no tab nor comma."""
    name = label.strip()
    if not name or not name.isprintable() or "," in name or len(name) > 64:
        raise CommandError(
            f"{label!r} is not a label: give a name of up to 64 characters, "
            "without commas or control characters."
        )
    return name
