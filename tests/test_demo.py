"""`wa-inbox demo --headless`: messages and callbacks arrive, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

SEEDED_INBOUND, SEEDED_EVENTS = 4, 2


def counts(db: Path) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            (inbound,) = conn.execute("SELECT COUNT(*) FROM messages WHERE direction = 'in'").fetchone()
            (events,) = conn.execute("SELECT COUNT(*) FROM status_events").fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return 0, 0
    return inbound, events


async def test_demo_shows_live_traffic_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wa_inbox",
        "demo",
        "--headless",
        "--db",
        str(db),
        "--pace",
        "0.3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(30):
            while counts(db)[0] <= SEEDED_INBOUND + 1 or counts(db)[1] <= SEEDED_EVENTS + 3:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
    finally:
        # Twice, as `timeout` and a terminal's process group deliver it: the second signal once
        # landed mid-shutdown as a KeyboardInterrupt and left the demo hanging.
        demo.send_signal(signal.SIGINT)
        await asyncio.sleep(0.05)  # not coalesced with the first: it arrives during the shutdown
        demo.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(demo.communicate(), 20)

    assert demo.returncode == 0, stderr.decode()
    output = stdout.decode()
    assert "wa-inbox demo" in output and str(db) in output
    assert "←" in output and "✓" in output
    assert "Traceback" not in stderr.decode()
