"""`wa-inbox doctor`: the set-up checklist, one line per check, with the fix for each failure."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from wa_inbox.cli.common import config_option, db_option, echo, friendly_errors, settings_for

DOCTOR_MARKS = {"passed": "✓", "failed": "✗", "skipped": "–"}


@click.command()
@config_option
@db_option
@friendly_errors
def doctor(config_path: Path | None, db_path: str | None) -> None:
    """Check the setup, one line per check with the fix for each failure; exit status 1 if one fails."""
    from wa_inbox.doctor import Outcome, run_checks

    settings = settings_for(config_path, db_path)
    results = asyncio.run(run_checks(settings))
    for result in results:
        echo(f"{DOCTOR_MARKS[result.outcome]} {result.name}: {result.detail}")
        if result.fix:
            echo(f"  → {result.fix}")
    if any(result.outcome is Outcome.FAILED for result in results):
        sys.exit(1)
