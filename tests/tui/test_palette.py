"""Every inbox action is in Textual's command palette, and runs from there."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from tests.support.tui import running_app, type_text, until, world_backend
from tests.support.world import running_world
from wa_inbox.tui.app import IN_ORDER_KEYS
from wa_inbox.tui.screens.inbox import InboxScreen
from wa_inbox.tui.screens.search import SearchScreen


async def test_every_action_is_a_palette_command_that_runs(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        wanted = {  # the `inbox.*` names are no keys: a key's in-order half, the composer's `/`
            b.description
            for b in InboxScreen.BINDINGS
            if isinstance(b, Binding) and not b.key.startswith(IN_ORDER_KEYS)
        }
        assert wanted <= titles, wanted - titles

        await pilot.press("ctrl+p")
        await type_text(pilot, "Search")
        await pilot.press("enter")

        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
