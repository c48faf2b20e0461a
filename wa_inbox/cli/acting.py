"""What the team commands share (#14): `--agent` (who acts), addresses typed as `send` takes them, the
conversation looked up first, and one sentence, exit status 2, for bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.common import CommandError, echo, with_existing_store
from wa_inbox.config import Settings
from wa_inbox.domain.addresses import e164, to_whatsapp
from wa_inbox.domain.models import Conversation
from wa_inbox.domain.team import ConversationStatus, valid_agent_name
from wa_inbox.store import Store, UnknownConversation

R = TypeVar("R")

agent_option = click.option(
    "--agent",
    "agent_name",
    help="Who does it (default: [agent] name, WA_INBOX_AGENT, else the OS user's name).",
)


output_option = click.option(
    "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def agent_for(settings: Settings, agent_name: str | None) -> str:
    """`--agent`, else the settings' (already checked when loaded), else the OS user's name."""
    name = settings.agent.resolved if agent_name is None else agent_name
    check_agent_name(name, "--agent")
    return name


def check_agent_name(name: str, flag: str) -> None:
    if not valid_agent_name(name):
        raise CommandError(
            f"{flag} {name!r} is not an agent name: use up to 32 letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit."
        )


def address_of(raw: str) -> str:
    """What `send` takes (`+E164`, with spaces or dashes, or `whatsapp:+E164`); `InvalidAddress` otherwise."""
    return to_whatsapp(raw)


def unknown_address(address: str) -> CommandError:
    return CommandError(
        f"There is no conversation with {e164(address)}: that number never wrote nor was written to "
        "(see `wa-inbox conversations list`)."
    )


async def require_contact(store: Store, address: str) -> None:
    if await store.get_contact(address) is None:
        raise unknown_address(address)


async def conversation_of(store: Store, address: str, agent: str | None = None) -> Conversation:
    found = await store.list_conversations(limit=1, addresses=[address], agent=agent)
    if not found:
        raise unknown_address(address)
    return found[0]


def in_store(settings: Settings, use: Callable[[Store], Awaitable[R]], read_only: bool = False) -> R:
    """`use` the existing database; the store's unknown address (a race with the check) is one sentence."""
    try:
        return asyncio.run(with_existing_store(settings, use, read_only=read_only))
    except UnknownConversation:
        raise CommandError(
            "There is no conversation with that number: it never wrote nor was written to "
            "(see `wa-inbox conversations list`)."
        ) from None


def print_conversation(conversation: Conversation, output: str, sentence: str) -> None:
    if output == "json":
        echo(json.dumps(rendering.conversation_record(conversation), ensure_ascii=False, indent=2))
    else:
        echo(sentence)


def status_filter(status: str | None) -> frozenset[str] | None:
    """`conversations list --status S`: one status, checked (one sentence otherwise)."""
    if status is None:
        return None
    if status not in {str(s) for s in ConversationStatus}:
        raise CommandError(
            f"--status {status!r} is not a conversation status: give open, pending, snoozed or resolved."
        )
    return frozenset({status})
