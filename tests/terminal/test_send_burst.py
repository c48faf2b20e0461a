"""Text and Enter in one burst: the text goes out once, and whatever follows the Enter stays to be sent."""

from __future__ import annotations

from pathlib import Path

from tests.terminal.inbox import ANA, Spawn, accepted, composer_text, open_conversation, sent_to, start_demo


def test_a_message_typed_and_sent_in_one_burst_goes_out_once_and_empties_the_composer(
    spawn: Spawn, tmp_path: Path
) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db)
    open_conversation(terminal, ANA.name, ANA.address)

    terminal.send("Your refund is approved\r")

    terminal.wait_for(lambda: sent_to(db, ANA.address) == ["Your refund is approved"])
    terminal.wait_for(lambda: accepted(db, ANA.address, "Your refund is approved"))
    terminal.wait_for(lambda: composer_text(terminal) == "")
    assert sent_to(db, ANA.address) == ["Your refund is approved"], terminal.dump()


def test_text_typed_after_the_enter_in_the_same_burst_stays_in_the_composer(
    spawn: Spawn, tmp_path: Path
) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db)
    open_conversation(terminal, ANA.name, ANA.address)

    terminal.send("first\rsecond")

    terminal.wait_for(lambda: sent_to(db, ANA.address) == ["first"])
    terminal.wait_for(lambda: accepted(db, ANA.address, "first"))
    terminal.wait_for(lambda: composer_text(terminal) == "second")
    assert sent_to(db, ANA.address) == ["first"], terminal.dump()
