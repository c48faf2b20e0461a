"""The inbox shows `wa-inbox doctor`'s checklist, with the same verdicts."""

from __future__ import annotations

from pathlib import Path

from tests.support.tui import running_app, static_text, until, world_backend
from tests.support.world import running_world
from wa_inbox.tui.screens.health import HealthScreen


async def test_the_health_panel_runs_the_doctor_checks(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        await pilot.press("f3")
        assert isinstance(app.screen, HealthScreen)

        await until(pilot, lambda: "(r checks again" in static_text(app, "#health-results"), seconds=15)

        lines = static_text(app, "#health-results").splitlines()
        checks = [line for line in lines if line[:1] in "✓✗–" and line]
        assert len(checks) == 6 and all(line.startswith("✓") for line in checks), lines
        assert any(line.startswith("✓ Twilio credentials") for line in checks)
        assert any(line.startswith("✓ Messaging Service webhooks") for line in checks)
