"""`wa-inbox templates`: sync the account's WhatsApp templates and list them."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

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
from wa_inbox.store import open_store

if TYPE_CHECKING:  # imported only by the commands that use them
    from wa_inbox.domain.templates import TemplateInfo


@click.group()
def templates() -> None:
    """The account's WhatsApp templates, as last synced from Twilio's Content API."""


@templates.command("sync")
@config_option
@db_option
@friendly_errors
def templates_sync(config_path: Path | None, db_path: str | None) -> None:
    """Read every template, and WhatsApp's verdict on it, from Twilio into the database."""
    settings = settings_for(config_path, db_path)
    synced = asyncio.run(_sync_templates(settings))
    verdicts = Counter(template.approval for template in synced)
    summary = ", ".join(f"{count} {approval}" for approval, count in sorted(verdicts.items()))
    echo(f"Synced {len(synced)} templates" + (f": {summary}." if summary else "."))


async def _sync_templates(settings: Settings) -> list[TemplateInfo]:
    from wa_inbox.gateway.template_sync import sync_templates

    store = await open_store(settings.store.path)  # created if missing, as `send` does
    try:
        async with twilio_client(settings) as client:
            return await sync_templates(client, store)
    finally:
        await store.close()


@templates.command("list")
@click.option("--output", type=click.Choice(["json", "tsv"]), default="tsv", show_default=True)
@config_option
@db_option
@friendly_errors
def templates_list(output: str, config_path: Path | None, db_path: str | None) -> None:
    """By name, as last synced (by `templates sync`, or by `serve` and the inbox at start-up)."""
    settings = settings_for(config_path, db_path)
    found = asyncio.run(with_existing_store(settings, lambda store: store.list_templates(), read_only=True))
    if not found:
        click.echo("wa-inbox: no templates are stored yet: run `wa-inbox templates sync`.", err=True)
    records = [rendering.template_record(template) for template in found]
    echo(rendering.render(records, rendering.TEMPLATE_COLUMNS, output))
