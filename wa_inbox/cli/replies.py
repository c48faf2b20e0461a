"""`wa-inbox replies`: saved replies, which `/` in the inbox's composer inserts for editing (#14)."""

from __future__ import annotations

from pathlib import Path

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import agent_for, agent_option, in_store
from wa_inbox.cli.common import CommandError, config_option, db_option, echo, friendly_errors, settings_for
from wa_inbox.domain.team import SavedReply
from wa_inbox.store import Store


@click.group()
def replies() -> None:
    """Saved replies: texts with `{name}` (the customer's) and `{agent}` (yours), filled in when inserted."""


@replies.command("add")
@click.argument("name")
@click.argument("text")
@agent_option
@config_option
@db_option
@friendly_errors
def replies_add(
    name: str, text: str, agent_name: str | None, config_path: Path | None, db_path: str | None
) -> None:
    """Keep TEXT as the saved reply NAME (replacing one of that name)."""
    name = check_reply_name(name)
    if not text.strip():
        raise CommandError(f"The saved reply {name} is empty: give its text.")
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)

    async def use(store: Store) -> bool:
        replaced = any(reply.name == name for reply in await store.list_replies())
        await store.record_agent(agent)
        await store.save_reply(name, text, agent)
        return replaced

    replaced = in_store(settings, use)
    echo(f"Saved reply {name} {'replaced' if replaced else 'saved'}.")


@replies.command("list")
@click.option("--output", type=click.Choice(["json", "tsv", "csv"]), default="tsv", show_default=True)
@agent_option
@config_option
@db_option
@friendly_errors
def replies_list(output: str, agent_name: str | None, config_path: Path | None, db_path: str | None) -> None:
    """Every saved reply, by name."""
    settings = settings_for(config_path, db_path)
    agent_for(settings, agent_name)  # checked like every command's; reading records nobody

    async def use(store: Store) -> list[SavedReply]:
        return await store.list_replies()

    found = in_store(settings, use, read_only=True)
    echo(
        rendering.render([rendering.reply_record(reply) for reply in found], rendering.REPLY_COLUMNS, output)
    )


@replies.command("delete")
@click.argument("name")
@agent_option
@config_option
@db_option
@friendly_errors
def replies_delete(name: str, agent_name: str | None, config_path: Path | None, db_path: str | None) -> None:
    """Forget the saved reply NAME."""
    name = name.strip()
    settings = settings_for(config_path, db_path)
    agent = agent_for(settings, agent_name)

    async def use(store: Store) -> bool:
        await store.record_agent(agent)
        return await store.delete_reply(name)

    if not in_store(settings, use):
        raise CommandError(f"There is no saved reply named {name!r} (see `wa-inbox replies list`).")
    echo(f"Saved reply {name} deleted.")


def check_reply_name(name: str) -> str:
    """What `/` in the composer filters by: one line of printable text, trimmed."""
    trimmed = name.strip()
    if not trimmed or not trimmed.isprintable() or len(trimmed) > 64:
        raise CommandError(
            f"{name!r} is not a saved reply's name: give one line of up to 64 characters, like greeting."
        )
    return trimmed
