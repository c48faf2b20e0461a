"""A customer's plain message reads as one: nothing about an ad (it had no click-to-WhatsApp referral)."""

from __future__ import annotations

from pathlib import Path

from tests.terminal.inbox import SEEDS, TRICKLE, Spawn, open_conversation, rows, start_demo, thread_text


def a_plain_text_from_a_new_customer(db: Path) -> tuple[str, str, str] | None:
    """(name, address, body) of a text message a simulated customer wrote: one with a name no one else has,
    short enough to show whole in the list."""
    seeded = {seed.name for seed in SEEDS}
    found = rows(
        db,
        "SELECT c.profile_name, c.address, m.body FROM messages m"
        " JOIN contacts c ON c.address = m.address"
        " WHERE m.direction = 'in' AND m.message_type = 'text' AND length(m.body) >= 10 ORDER BY m.id",
    )
    return next(
        ((name, address, body) for name, address, body in found if name not in seeded and len(name) <= 13),
        None,
    )


def test_a_plain_inbound_message_is_not_shown_as_coming_from_an_ad(spawn: Spawn, tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    terminal = start_demo(spawn, db, pace=TRICKLE)
    terminal.wait_for(lambda: a_plain_text_from_a_new_customer(db) is not None, timeout=15)
    name, address, body = a_plain_text_from_a_new_customer(db) or ("", "", "")

    open_conversation(terminal, name, address)

    terminal.wait_for(lambda: body[:10] in thread_text(terminal))
    assert "from an ad" not in terminal.screen_text(), terminal.dump()
