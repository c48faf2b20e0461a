"""Start-up: the conversation list, and nothing marked read until the agent opens a conversation."""

from __future__ import annotations

import time
from pathlib import Path

from tests.terminal.inbox import ANA, SEEDS, Spawn, highlighted, open_conversation, start_demo, unread


def test_start_up_shows_the_list_and_marks_nothing_read_until_the_agent_opens_a_conversation(
    spawn: Spawn, tmp_path: Path
) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db)
    terminal.wait_for(lambda: highlighted(terminal) is not None)

    time.sleep(1.0)  # settle: "nothing is marked read" can only be seen by giving the app time to do it
    assert unread(db) == {seed.address for seed in SEEDS}, terminal.dump()

    open_conversation(terminal, ANA.name, ANA.address)

    others = {seed.address for seed in SEEDS if seed is not ANA}
    terminal.wait_for(lambda: unread(db) == others)
