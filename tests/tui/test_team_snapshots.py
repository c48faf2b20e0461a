"""The team's states as the agent sees them (#14): a view with its counts, notes and assignments in a
thread, the warning before a send that could cross another agent's reply. Seeded as `test_snapshots`
seeds, at its fixed time, offline; this inbox is the agent `alice`."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from pathlib import Path

from textual.pilot import Pilot

from tests.support.tui import AGENT, offline_backend, open_conversation, settled, type_text, until
from tests.tui.test_snapshots import DEV, EVE, FIXED_NOW, SIZE, Clock, SnapCompare, seed, utc  # noqa: F401
from wa_inbox.domain.policy import Draft
from wa_inbox.store.sqlite import SqliteStore
from wa_inbox.testing import BUSINESS
from wa_inbox.tui.app import InboxApp

BOB = "bob"


async def team_seed(path: Path) -> None:
    """`seed`, then: bob took Eve and answered Dev a minute ago; alice took Dev with a note for bob."""
    await seed(path)
    clock = Clock()
    store = await SqliteStore.open(path, clock)

    def ago(**delta: float) -> None:
        clock.at = FIXED_NOW - timedelta(**delta)

    try:
        await store.record_agent(BOB)
        ago(minutes=30)
        await store.assign(EVE, BOB, by=BOB)
        ago(minutes=5)
        await store.assign(DEV, AGENT, by=AGENT)
        await store.add_note(DEV, AGENT, "@bob the warehouse says Friday; I'll tell him once it ships")
        ago(minutes=1)
        message_id = await store.queue_draft(Draft(DEV, "We will reserve an M for you.", author=BOB), "k1")
        assert message_id is not None
        await store.claim_unsent(1, message_id)
        await store.record_accepted(message_id, "SM" + secrets.token_hex(16), "sent", BUSINESS, None)
    finally:
        await store.close()


def team_inbox(path: Path) -> InboxApp:
    asyncio.run(team_seed(path))
    return InboxApp(offline_backend(path), clock=lambda: FIXED_NOW)


def test_the_unassigned_view_with_its_counts(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """ctrl+v twice: Mine, then Unassigned; Eve (bob's) and Dev (alice's) are not in it."""

    async def unassigned(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, InboxApp)
        await settled(pilot)
        await pilot.press("ctrl+v", "ctrl+v")
        await until(pilot, lambda: str(app.inbox.view) == "unassigned" and app.inbox.counts is not None)
        await settled(pilot)

    assert snap_compare(team_inbox(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=unassigned)


def test_a_note_and_an_assignment_in_the_thread(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The note in a block of its own in the middle ("🔒 note · alice"), the assignment as a centred
    line, bob's reply named; the header says whose it is."""

    async def open_dev(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await open_conversation(pilot, "Dev Patel")

    assert snap_compare(team_inbox(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=open_dev)


def test_the_warning_before_a_send_after_another_agents_reply(
    snap_compare: SnapCompare, tmp_path: Path
) -> None:
    async def write_after_bob(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, InboxApp)
        await settled(pilot)
        await open_conversation(pilot, "Dev Patel")
        await type_text(pilot, "Reserved!")
        await pilot.press("enter")
        await until(pilot, lambda: app.inbox.collision_warning is not None)

    assert snap_compare(team_inbox(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=write_after_bob)


def test_the_composer_writing_a_note(snap_compare: SnapCompare, tmp_path: Path) -> None:
    async def note_mode(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await open_conversation(pilot, "Dev Patel")
        await pilot.press("f5")
        await type_text(pilot, "@bob call him")

    assert snap_compare(team_inbox(tmp_path / "inbox.db"), terminal_size=SIZE, run_before=note_mode)
