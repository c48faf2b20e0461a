"""`wa-inbox contacts`: a customer's details, and opting them out or in by hand, as an agent (#14)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from wa_inbox.cli import rendering
from wa_inbox.cli.acting import (
    address_of,
    agent_for,
    agent_option,
    conversation_of,
    in_store,
    output_option,
    require_contact,
    unknown_address,
)
from wa_inbox.cli.common import config_option, db_option, echo, friendly_errors, settings_for
from wa_inbox.domain.addresses import e164
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.optout import OptAction
from wa_inbox.store import Store


@click.group()
def contacts() -> None:
    """Customers: their details, and opting them out or back in by hand."""


def _opt_command(action: OptAction) -> click.Command:
    stop = action is OptAction.STOP

    @click.argument("address")
    @agent_option
    @output_option
    @config_option
    @db_option
    @friendly_errors
    def command(
        address: str,
        agent_name: str | None,
        output: str,
        config_path: Path | None,
        db_path: str | None,
    ) -> None:
        to = address_of(address)
        settings = settings_for(config_path, db_path)
        agent = agent_for(settings, agent_name)

        async def use(store: Store) -> tuple[bool, dict[str, Any]]:
            if not stop:  # opting out a number that never wrote is a way to never write to it
                await require_contact(store, to)
            await store.record_agent(agent)
            changed = await store.set_opt_state(to, action, f"agent {agent}")
            return changed, await _contact_record(store, to)

        changed, record = in_store(settings, use)
        if output == "json":
            echo(json.dumps(record, ensure_ascii=False, indent=2))
        else:
            state = "out" if stop else "in"
            number = e164(to)
            echo(
                f"{number} is now opted {state} (by agent {agent})."
                if changed
                else f"{number} was opted {state} already."
            )

    command.__doc__ = (
        "Opt the customer at ADDRESS out: nothing more is sent to them until they write START (or opt-in)."
        if stop
        else "Opt the customer at ADDRESS back in, after a STOP."
    )
    return click.command("opt-out" if stop else "opt-in")(command)


contacts.add_command(_opt_command(OptAction.STOP))
contacts.add_command(_opt_command(OptAction.START))


@contacts.command("show")
@click.argument("address")
@agent_option
@output_option
@config_option
@db_option
@friendly_errors
def contacts_show(
    address: str, agent_name: str | None, output: str, config_path: Path | None, db_path: str | None
) -> None:
    """The customer at ADDRESS: number, name, window, opt-out with its history, labels."""
    to = address_of(address)
    settings = settings_for(config_path, db_path)
    agent_for(settings, agent_name)  # checked like every command's; reading records nobody

    async def use(store: Store) -> dict[str, Any]:
        return await _contact_record(store, to)

    record = in_store(settings, use, read_only=True)
    if output == "json":
        echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    lines = [
        ("number", e164(record["address"])),
        ("name", record["profile_name"] or "—"),
        ("window", _window(record["window_expires_at"])),
        (
            "opted out",
            f"yes, since {record['opted_out_at']} ({record['opted_out_source']})"
            if record["opted_out"]
            else "no",
        ),
        ("status", record["status"] or "—"),
        ("assignee", record["assignee"] or "nobody"),
        ("labels", ", ".join(record["labels"]) or "none"),
    ]
    lines += [
        ("opt history", f"{event['at']} {event['action']} ({event['source']})")
        for event in record["opt_history"]
    ]
    echo("\n".join(f"{key:<12} {value}" for key, value in lines))


async def _contact_record(store: Store, address: str) -> dict[str, Any]:
    contact = await store.get_contact(address)
    if contact is None:
        raise unknown_address(address)
    conversation = await conversation_of(store, address)
    return rendering.contact_record(contact, conversation, await store.opt_history(address))


def _window(expires_at: str | None) -> str:
    """The 24-hour window in words: open until when, closed since when, or never opened."""
    if expires_at is None:
        return "never opened (the customer never wrote)"
    closes = datetime.fromisoformat(expires_at)
    return f"open until {expires_at}" if closes > utc_now() else f"closed since {expires_at}"
