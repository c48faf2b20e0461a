"""80x24, the smallest common terminal: the list's window countdowns and failure codes, and the footer's
quit and help keys, all fit."""

from __future__ import annotations

import re
from pathlib import Path

from tests.terminal.inbox import ANA, BEN, DEV, Spawn, row_of, start_demo

COUNTDOWN = re.compile(r"\b\d{1,2}:\d{2}\b")


def test_an_80x24_terminal_shows_countdowns_failure_codes_and_the_quit_and_help_keys(
    spawn: Spawn, tmp_path: Path
) -> None:
    terminal = start_demo(spawn, tmp_path / "inbox.db", columns=80, rows=24)

    terminal.wait_for(lambda: COUNTDOWN.search(row_of(terminal, ANA.name)) is not None)
    terminal.wait_for(lambda: "closed" in row_of(terminal, BEN.name))
    terminal.wait_for(lambda: "✗ 63016" in row_of(terminal, DEV.name))
    footer = terminal.lines()[-1]
    assert "^q" in footer and "f1" in footer, terminal.dump()
