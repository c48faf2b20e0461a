"""Customers keep writing while the agent types: every character typed stays in sight."""

from __future__ import annotations

from pathlib import Path

from tests.terminal.inbox import STREAM, Spawn, composer_text, inbound_count, start_demo

SENTENCE = "Thanks for waiting, your new order ships out today at 12:00."


def words(text: str | None) -> str:
    """Soft wrapping turns a space into a line break: compare the words only."""
    return " ".join((text or "").split())


def test_what_the_agent_types_stays_visible_while_messages_stream_in(spawn: Spawn, tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db, pace=STREAM)
    terminal.wait_for(lambda: inbound_count(db) >= 6)  # the stream is running
    terminal.keys("enter")
    terminal.wait_for(lambda: composer_text(terminal) is not None)

    assert len(SENTENCE) == 60
    typed = ""
    for start in range(0, len(SENTENCE), 15):
        burst = SENTENCE[start : start + 15]
        terminal.send(burst)
        typed += burst
        terminal.wait_for(lambda typed=typed: words(composer_text(terminal)) == words(typed), timeout=5)

    seen = inbound_count(db)
    terminal.wait_for(lambda: inbound_count(db) >= seen + 3)
    terminal.wait_for(lambda: words(composer_text(terminal)) == words(SENTENCE), timeout=2)
