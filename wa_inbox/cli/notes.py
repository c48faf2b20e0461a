"""`wa-inbox notes`: internal notes in a conversation's thread, never sent to the customer (#14)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import address_of, agent_for, agent_option, in_store, output_option, require_contact
from wa_inbox.cli.common import CommandError, config_option, db_option, echo, friendly_errors, settings_for
from wa_inbox.domain.addresses import e164
from wa_inbox.domain.team import EventKind, ThreadEvent
from wa_inbox.store import Store

NOTES_READ = 10_000
"""The latest thread events `notes list` looks through (notes, assignments, status and label changes)."""


@click.group()
def notes() -> None:
    """Internal notes: written in a conversation's thread for the team, never sent to the customer."""


@notes.command("add")
@click.argument("address")
@click.argument("text")
@agent_option
@output_option
@config_option
@db_option
@friendly_errors
def notes_add(
    address: str,
    text: str,
    agent_name: str | None,
    output: str,
    config_path: Path | None,
    db_path: str | None,
) -> None:
    """Write TEXT as a note in the conversation with ADDRESS (`@name` mentions an agent)."""
    if not text.strip():
        raise CommandError(
            "The note is empty: give its text, like `wa-inbox notes add +14155550100 'Called her'`."
        )
    to = address_of(address)
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)

    async def use(store: Store) -> ThreadEvent:
        await require_contact(store, to)
        await store.record_agent(agent)
        return await store.add_note(to, agent, text)

    note = in_store(settings, use)
    if output == "json":
        echo(json.dumps(rendering.note_record(note), ensure_ascii=False, indent=2))
    else:
        echo(f"Note {note.id} written in the conversation with {e164(to)}, as {agent}.")


@notes.command("list")
@click.argument("address")
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="tsv", show_default=True)
@agent_option
@config_option
@db_option
@friendly_errors
def notes_list(
    address: str, output: str, agent_name: str | None, config_path: Path | None, db_path: str | None
) -> None:
    """The notes of the conversation with ADDRESS, oldest first."""
    to = address_of(address)
    settings = settings_for(config_path, db_path)
    agent_for(settings, agent_name)  # checked like every command's; reading records nobody

    async def use(store: Store) -> list[ThreadEvent]:
        await require_contact(store, to)
        events = await store.thread_events(to, limit=NOTES_READ)
        return [event for event in events if event.kind == EventKind.NOTE]

    found = in_store(settings, use, read_only=True)
    echo(rendering.render([rendering.note_record(note) for note in found], rendering.NOTE_COLUMNS, output))
