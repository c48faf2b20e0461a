"""One draft per conversation: it waits in its composer while the agent is elsewhere, and across a restart."""

from __future__ import annotations

from pathlib import Path

from tests.terminal.inbox import (
    ANA,
    SEEDS,
    Spawn,
    back_to_list,
    composer_text,
    cursor_row,
    highlighted,
    move_to,
    number,
    open_conversation,
    start_demo,
    thread_text,
)


def test_a_draft_stays_with_its_conversation_and_survives_a_restart(spawn: Spawn, tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db)
    open_conversation(terminal, ANA.name, ANA.address)
    terminal.send("draft for Ana")
    terminal.wait_for(lambda: composer_text(terminal) == "draft for Ana")

    on_ana = cursor_row(terminal)
    back_to_list(terminal)
    terminal.keys("down")
    terminal.wait_for(lambda: cursor_row(terminal) not in (on_ana, None))
    other = next(seed for seed in SEEDS if seed.name in (highlighted(terminal) or ""))
    terminal.keys("enter")
    terminal.wait_for(lambda: number(other.address) in thread_text(terminal))
    # Empty there (None: no composer box at all, should the inbox hide it for an opted-out customer).
    terminal.wait_for(
        lambda: composer_text(terminal) in ("", None) and "draft for" not in terminal.screen_text()
    )

    back_to_list(terminal)
    move_to(terminal, ANA.name)
    terminal.keys("enter")
    terminal.wait_for(lambda: number(ANA.address) in thread_text(terminal))
    terminal.wait_for(lambda: composer_text(terminal) == "draft for Ana")

    assert terminal.close() == 0, terminal.dump()
    again = start_demo(spawn, db)
    open_conversation(again, ANA.name, ANA.address)
    again.wait_for(lambda: composer_text(again) == "draft for Ana")
