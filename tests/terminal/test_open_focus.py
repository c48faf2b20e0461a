"""Enter on a conversation opens it and puts the cursor in its composer; Esc goes back to the list.

Keys arrive in bursts on a real terminal: what is typed right after Enter, in the same read, must land
in the composer and not move the list (`j`, `k` are the list's own keys).
"""

from __future__ import annotations

from pathlib import Path

from tests.terminal.inbox import (
    ANA,
    Spawn,
    back_to_list,
    composer_text,
    cursor_row,
    is_highlighted,
    move_to,
    number,
    start_demo,
    thread_text,
)


def test_text_typed_with_the_enter_that_opens_a_conversation_goes_into_its_composer(
    spawn: Spawn, tmp_path: Path
) -> None:
    terminal = start_demo(spawn, tmp_path / "inbox.db")
    move_to(terminal, ANA.name)

    terminal.send("\rkjk hello")

    terminal.wait_for(lambda: number(ANA.address) in thread_text(terminal))
    terminal.wait_for(lambda: composer_text(terminal) == "kjk hello")
    assert is_highlighted(terminal, ANA.name), terminal.dump()


def test_escape_gives_the_keys_back_to_the_list(spawn: Spawn, tmp_path: Path) -> None:
    terminal = start_demo(spawn, tmp_path / "inbox.db")
    move_to(terminal, ANA.name)
    terminal.send("\rhi")
    terminal.wait_for(lambda: composer_text(terminal) == "hi")
    on_ana = cursor_row(terminal)

    back_to_list(terminal)
    terminal.keys("down")

    terminal.wait_for(lambda: cursor_row(terminal) not in (on_ana, None))
    below_ana = cursor_row(terminal)
    terminal.send("j")  # the list's own key, not a letter for the composer
    terminal.wait_for(lambda: cursor_row(terminal) not in (below_ana, None))
    assert composer_text(terminal) == "hi", terminal.dump()
