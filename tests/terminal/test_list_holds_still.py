"""The conversation list holds still under the agent: new messages do not move the highlight elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.terminal import Terminal
from tests.terminal.inbox import STREAM, Spawn, cursor_row, highlighted, inbound_count, list_part, start_demo


def name_on(row: str | None) -> str:
    """The name on a list row: after the unread mark, up to the first gap of two spaces or more."""
    return re.split(r"\s{2,}", (row or "")[1:].strip())[0]


def list_rows(terminal: Terminal) -> list[str]:
    return [list_part(line) for line in terminal.lines()[1:-1] if list_part(line).strip()]


def test_the_highlight_stays_on_the_conversation_the_agent_moved_to(spawn: Spawn, tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db, pace=STREAM)
    terminal.wait_for(lambda: len(list_rows(terminal)) >= 7)  # customers of the stream have written

    for _ in range(3):
        # By name, not by line: new messages may move the highlighted line without any key.
        was = name_on(highlighted(terminal))
        terminal.keys("down")
        terminal.wait_for(lambda was=was: name_on(highlighted(terminal)) not in (was, ""))
    chosen = name_on(highlighted(terminal))
    before = list_rows(terminal)

    seen = inbound_count(db)
    terminal.wait_for(lambda: inbound_count(db) >= seen + 3)
    terminal.wait_for(lambda: list_rows(terminal) != before)  # the new messages show in the list

    terminal.wait_for(lambda: cursor_row(terminal) is not None)
    assert name_on(highlighted(terminal)) == chosen, terminal.dump()
