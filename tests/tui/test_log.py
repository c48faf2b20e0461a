"""The embedded receiver's log is inside the app, live, never on the terminal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from textual.widgets import Log

from tests.support.tui import ZOE, running_app, until, world_backend
from tests.support.world import running_world
from wa_inbox.tui.screens.log import LogScreen


async def test_the_log_screen_shows_webhooks_as_they_arrive(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what `wa-inbox` sets up for the inbox
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, LogScreen)

        sid = await world.emulator.customer_says(ZOE, "Anyone there?")

        log = app.screen.query_one(Log)
        await until(
            pilot, lambda: any(f"sid={sid}" in line and "verdict=accepted" in line for line in log.lines)
        )
