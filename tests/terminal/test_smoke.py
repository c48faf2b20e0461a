"""The harness itself: the installed `wa-inbox demo` starts on a real pty, draws, takes keys and quits."""

from __future__ import annotations

from pathlib import Path

from tests.terminal.inbox import ANA, DEV, Spawn, highlighted, move_to, start_demo


def test_the_demo_draws_its_seeded_inbox_moves_on_arrow_keys_and_quits_on_ctrl_q(
    spawn: Spawn, tmp_path: Path
) -> None:
    terminal = start_demo(spawn, tmp_path / "inbox.db")
    terminal.wait_for("receiver http://127.0.0.1:")
    terminal.wait_for(lambda: highlighted(terminal) is not None)

    move_to(terminal, ANA.name)
    move_to(terminal, DEV.name)

    assert terminal.close() == 0, terminal.dump()
