"""Attaching a file from the inbox: checked before anything is sent, then sent as a signed link."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.support.tui import ZOE, idle, running_app, static_text, type_text, until, world_backend
from tests.support.world import customer_writes, eventually, running_world

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def attach(pilot: Pilot[None], path: Path) -> None:
    """Pick the file, read the confirmation, confirm it with a second Enter."""
    await pilot.press("f2")
    await type_text(pilot, str(path))
    await pilot.press("enter")
    await until(
        pilot, lambda: "Enter sends it" in str(pilot.app.screen.query_one("#attach-confirm").render())
    )
    await pilot.press("enter")


async def test_a_file_over_the_limit_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    big = tmp_path / "scan.png"
    big.write_bytes(PNG + b"\x00" * 6_000_000)  # over the 5 MiB allowed for images
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Send me the scan")
        async with running_app(world_backend(world)) as (app, pilot):
            await attach(pilot, big)

            await until(pilot, lambda: "limit for images" in static_text(app, "#banner"))
            assert await world.emulator.sent() == []
            assert not (world.settings.media.storage_dir / "outbound").exists()


async def test_a_small_image_goes_out_with_the_composer_text_as_caption(tmp_path: Path) -> None:
    photo = tmp_path / "box.png"
    photo.write_bytes(PNG)
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Photo please")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("ctrl+e")
            await type_text(pilot, "Your box")
            await attach(pilot, photo)

            (sent,) = await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 1)
            await until(pilot, lambda: idle(app))
    assert sent["params"]["Body"] == "Your box"
    (url,) = sent["params"]["MediaUrl"]
    assert url.startswith(world.receiver_url + "/media/") and url.endswith(".png")


async def test_tab_completes_the_path_and_nothing_goes_before_the_confirmation(tmp_path: Path) -> None:
    (tmp_path / "receipts").mkdir()
    (tmp_path / "receipts" / "march.png").write_bytes(PNG)
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "The receipt?")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("f2")
            await type_text(pilot, f"{tmp_path}/rec")
            path = app.screen.query_one("#attach-path", Input)
            await until(pilot, lambda: path._suggestion.endswith("receipts/"))
            await pilot.press("tab")
            assert path.value == f"{tmp_path}/receipts/"
            await type_text(pilot, "m")
            await until(pilot, lambda: path._suggestion.endswith("march.png"))
            await pilot.press("tab", "enter")

            confirm = app.screen.query_one("#attach-confirm")
            await until(pilot, lambda: "Send march.png (image/png" in str(confirm.render()))
            assert "to Zoe" in str(confirm.render()) or ZOE.removeprefix("whatsapp:") in str(confirm.render())
            await pilot.press("escape")  # changed their mind: nothing was sent
            await until(pilot, lambda: idle(app))
            assert await world.emulator.sent() == []
