"""The composer's keys are configurable (`[tui] send_key`, `newline_key`), through Textual's keymap."""

from __future__ import annotations

from pathlib import Path

from tests.support.tui import ZOE, idle, type_text, until, world_backend
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.widgets.composer import Composer


async def test_a_remapped_send_key_sends_and_enter_then_breaks_the_line(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Hi")
        app = InboxApp(world_backend(world))
        app.set_keymap({"composer.send": "ctrl+s", "composer.newline": "ctrl+j"})
        async with app.run_test(size=(120, 32)) as pilot:
            await until(pilot, lambda: idle(app))
            await pilot.press("ctrl+e")
            await type_text(pilot, "two")
            await pilot.press("enter")
            await type_text(pilot, "lines")
            assert app.inbox.query_one(Composer).text == "two\nlines"

            await pilot.press("ctrl+s")

            (sent,) = await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 1)
    assert sent["params"]["Body"] == "two\nlines"
