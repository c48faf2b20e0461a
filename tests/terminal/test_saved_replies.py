"""Saved replies in a real terminal: `/`, a filter and Enter in one read, or in two reads a few
milliseconds apart (the dialog opens between them), all land in the dialog in the order typed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.terminal import console_script
from tests.terminal.inbox import ANA, Spawn, open_conversation, start_demo

REPLIES = {"greet": "Hello {name}, {agent} here!", "order": "Your order {name} ships today"}


def save_replies(db: Path) -> None:
    for name, body in REPLIES.items():
        subprocess.run(
            [console_script(), "replies", "add", name, body, "--db", str(db), "--agent", "ana"],
            check=True,
            capture_output=True,
            timeout=30,
        )


@pytest.mark.parametrize("reads", [["/ord\r"], ["/ord", "\r"]], ids=["one read", "two reads"])
def test_a_filtered_reply_lands_in_the_composer(spawn: Spawn, tmp_path: Path, reads: list[str]) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db)
    save_replies(db)
    open_conversation(terminal, ANA.name, ANA.address)

    for read in reads:
        terminal.send(read)
        time.sleep(0.005)

    filled = f"Your order {ANA.name} ships today"
    terminal.wait_for(lambda: filled in terminal.screen_text())
    assert "/ord" not in terminal.screen_text() and f"{filled}ord" not in terminal.screen_text()
