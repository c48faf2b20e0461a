"""An inbound photo: a placeholder until it is downloaded, then its size, and `o` opens it; once
retention removed it, it says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest

from tests.support.tui import ZOE, list_rows, running_app, thread_text, until, world_backend
from tests.support.world import running_world
from wa_inbox.emulator.customers import tiny_png
from wa_inbox.retention import remove_old_media
from wa_inbox.tui.screens.image import ImagePreviewScreen


async def test_a_downloaded_photo_shows_its_size_and_opens_in_the_viewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(click, "launch", lambda path: opened.append(path) or 0)  # no viewer runs here
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        await world.emulator.customer_says(ZOE, "Look", media=[(tiny_png((200, 30, 30)), "image/png")])
        await until(pilot, lambda: bool(list_rows(app)))
        await pilot.press("enter")  # open the conversation from the list
        await until(pilot, lambda: "o opens it" in thread_text(app), seconds=10)

        await pilot.press("ctrl+o", "tab", "up", "o")

        await until(pilot, lambda: len(opened) == 1)
    assert opened[0].startswith(str(world.settings.media.storage_dir))
    assert Path(opened[0]).read_bytes() == tiny_png((200, 30, 30))  # noqa: ASYNC240 - a test's last look


async def test_p_previews_a_downloaded_image_in_the_terminal(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        await world.emulator.customer_says(ZOE, "See", media=[(tiny_png((30, 200, 30)), "image/png")])
        await until(pilot, lambda: bool(list_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: "o opens it" in thread_text(app), seconds=10)

        await pilot.press("ctrl+o", "tab", "up", "p")

        await until(pilot, lambda: isinstance(app.screen, ImagePreviewScreen))
        assert app.screen.query_one("#image-preview") is not None


async def test_a_photo_removed_by_retention_says_so_and_opens_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(click, "launch", lambda path: opened.append(path) or 0)
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        await world.emulator.customer_says(ZOE, "Old", media=[(tiny_png((9, 9, 9)), "image/png")])
        await until(pilot, lambda: bool(list_rows(app)))
        await pilot.press("enter")
        await until(pilot, lambda: "o opens it" in thread_text(app), seconds=10)
        later = datetime.now(UTC) + timedelta(days=31)

        sweep = await remove_old_media(world.store, world.settings.media.storage_dir, 30, later)

        await until(pilot, lambda: "removed after 30 days" in thread_text(app))
        assert "o opens it" not in thread_text(app) and "downloading" not in thread_text(app)
        await pilot.press("ctrl+o", "tab", "up", "o")
        await pilot.pause()
    assert sweep.removed == 1 and opened == []
