"""`wa-inbox db`: bringing the schema up to date as a step of its own, how big the database has grown,
and giving its free space back to the file system."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from wa_inbox.cli.common import (
    CommandError,
    config_option,
    db_option,
    friendly_errors,
    settings_for,
    with_existing_store,
)
from wa_inbox.store import Store, StoreStats, upgrade_in_place
from wa_inbox.store.files import prepare_database

VACUUM_STEP_PAGES = 500
"""Free pages given back per write: about 50 ms of the writer's time (0.1 ms a page moved), so the
webhooks that arrive meanwhile commit late by that much at most, never by the whole vacuum."""
PROGRESS_SECONDS = 1.0
"""How often `db vacuum` says how far it is, when its stderr is not a terminal (a log, a pipe)."""


@click.group()
def db() -> None:
    """The database's schema, its size, and giving its free space back."""


@db.command("migrate")
@config_option
@db_option
@friendly_errors
def db_migrate(config_path: Path | None, db_path: str | None) -> None:
    """Bring the database to this release's schema now, creating it if missing; one line per step.

    For deployments with several `wa-inbox serve` replicas (`[store] migrate = "never"`): run once, as a
    Kubernetes Job or an init container, before the replicas start. A long step says how it goes on
    stderr. A database a newer wa-inbox migrated is refused, untouched.
    """
    settings = settings_for(config_path, db_path)
    prepare_database(settings.store.path)  # a new file is created empty (0600), then migrated
    applied = upgrade_in_place(settings.store.path, lambda line: click.echo(f"wa-inbox: {line}", err=True))
    for step in applied:
        click.echo(f"applied {step}")
    if not applied:
        click.echo("already current")


@db.command("stats")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@config_option
@db_option
@friendly_errors
def db_stats(output: str, config_path: Path | None, db_path: str | None) -> None:
    """Rows per table, the database's and its log's size on disk, media bytes and free pages."""
    settings = settings_for(config_path, db_path)
    stats = asyncio.run(with_existing_store(settings, lambda store: store.stats(), read_only=True))
    if output == "json":
        click.echo(json.dumps(stats_record(stats), indent=2))
    else:
        click.echo(stats_table(stats))


def stats_record(stats: StoreStats) -> dict[str, Any]:
    return {
        "rows": dict(stats.rows),
        "bytes_on_disk": stats.bytes_on_disk,
        "log_bytes": stats.log_bytes,
        "media_bytes": stats.media_bytes,
        "free_pages": stats.free_pages,
        "page_size": stats.page_size,
        "free_bytes": stats.free_pages * stats.page_size,
        "vacuums_online": stats.vacuums_online,
    }


def stats_table(stats: StoreStats) -> str:
    lines = [(table, f"{count:,}") for table, count in stats.rows.items()]
    free = stats.free_pages * stats.page_size
    lines += [
        ("database", size(stats.bytes_on_disk)),
        ("log", size(stats.log_bytes)),
        ("media", size(stats.media_bytes)),
        ("free", f"{stats.free_pages:,} pages of {stats.page_size:,} bytes ({size(free)})"),
        (
            "vacuum",
            "online (`wa-inbox db vacuum`)" if stats.vacuums_online else "needs `db vacuum --full` once",
        ),
    ]
    width = max(len(name) for name, _ in lines)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in lines)


def size(count: int) -> str:
    """Bytes for people: 0 B, 812 B, 4.1 kB, 190.1 MB, 1.9 GB (powers of 1000)."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@db.command("vacuum")
@click.option(
    "--full",
    is_flag=True,
    help="Rewrite the whole database (locks it while it runs: stop `wa-inbox serve` first). Needed once "
    "for a database created before online vacuuming.",
)
@config_option
@db_option
@friendly_errors
def db_vacuum(full: bool, config_path: Path | None, db_path: str | None) -> None:
    """Give free pages back to the file system, online: `wa-inbox serve` keeps receiving meanwhile."""
    settings = settings_for(config_path, db_path)
    before, after = asyncio.run(with_existing_store(settings, lambda store: _vacuum(store, full)))
    given = before.bytes_on_disk - after.bytes_on_disk
    click.echo(
        f"Gave back {size(max(given, 0))}: the database is {size(after.bytes_on_disk)}, "
        f"with {after.free_pages:,} free pages."
    )


async def _vacuum(store: Store, full: bool) -> tuple[StoreStats, StoreStats]:
    before = await store.stats()
    if full:
        await _vacuum_full(store, before)
    elif not before.vacuums_online:
        raise CommandError(
            "This database was created before wa-inbox gave space back online: run "
            "`wa-inbox db vacuum --full` once, with `wa-inbox serve` stopped (later vacuums run online)."
        )
    elif before.free_pages:
        await _vacuum_online(store, before)
    return before, await store.stats()


async def _vacuum_full(store: Store, before: StoreStats) -> None:
    """Refused while a sender holds the lease: a live `serve` (or inbox) would stall for the whole rewrite."""
    lease = await store.sender_lease()
    if lease is not None:
        raise CommandError(
            f"`db vacuum --full` locks the database while it rewrites it, and {lease.owner} is sending "
            f"from it (its lease runs until {lease.expires_at:%H:%M:%S} UTC): stop `wa-inbox serve` "
            "(or the inbox) first.",
            1,
        )
    click.echo(
        f"wa-inbox: rewriting the whole database ({size(before.bytes_on_disk)}); "
        "it is locked until this ends.",
        err=True,
    )
    await store.vacuum_full()


async def _vacuum_online(store: Store, before: StoreStats) -> None:
    """Short writes of VACUUM_STEP_PAGES until no page is free, saying how far on stderr."""
    terminal = sys.stderr.isatty()
    said = time.monotonic()
    left = before.free_pages
    while left:
        left = await store.vacuum_step(VACUUM_STEP_PAGES)
        now = time.monotonic()
        if left == 0 or terminal or now - said >= PROGRESS_SECONDS:
            given = (before.free_pages - left) * before.page_size
            line = f"wa-inbox: vacuum: {left:,} free pages left, {size(given)} given back"
            click.echo(f"\r{line}\x1b[K" if terminal else line, err=True, nl=not terminal)
            said = now
    if terminal:
        click.echo(err=True)
