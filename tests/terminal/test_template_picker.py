"""The template picker keeps up with a search typed in one burst."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.terminal import key
from tests.terminal.inbox import ANA, Spawn, open_conversation, start_demo


def test_a_search_typed_in_one_burst_filters_the_picker_without_a_crash(spawn: Spawn, tmp_path: Path) -> None:
    terminal = start_demo(spawn, tmp_path / "inbox.db")
    open_conversation(terminal, ANA.name, ANA.address)
    terminal.keys("ctrl+t")
    terminal.wait_for("order_shipped")

    terminal.send("spring")

    terminal.wait_for(
        lambda: "spring_sale" in terminal.screen_text() and "order_shipped" not in terminal.screen_text()
    )
    time.sleep(1.0)  # settle: the crash to rule out comes from handlers that run after the list is redrawn
    assert terminal.alive, terminal.dump()
    assert "spring_sale" in terminal.screen_text() and "order_shipped" not in terminal.screen_text(), (
        terminal.dump()
    )
    assert terminal.close() == 0  # ctrl+q quits from inside the dialog too (killed, it would not be 0)


def test_a_search_typed_in_the_same_burst_as_ctrl_t_lands_in_the_picker(spawn: Spawn, tmp_path: Path) -> None:
    """ctrl+t opens a dialog: the keys behind it in the same read are typed into it, not the composer."""
    terminal = start_demo(spawn, tmp_path / "inbox.db")
    open_conversation(terminal, ANA.name, ANA.address)

    terminal.send(key("ctrl+t") + "spring")

    terminal.wait_for(
        lambda: "spring_sale" in terminal.screen_text() and "order_shipped" not in terminal.screen_text()
    )
    assert terminal.alive, terminal.dump()
