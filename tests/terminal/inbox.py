"""The inbox as a person sees it on a real terminal: `wa-inbox demo` started, its screen read, its database.

Everything here reads the screen (pyte's cells), never the app's objects: these tests must hold whatever
widgets the inbox is built from.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.terminal import Terminal
from wa_inbox.demo import SEEDS

ANA, BEN, CHLOE, DEV = SEEDS
QUIET = 3600.0
"""A pace at which no simulated customer writes during a test (the first one waits pace x 0.5-1.5)."""
STREAM = 0.3
"""A pace at which customers write about three times a second."""
TRICKLE = 1.0
"""A pace at which new customers keep arriving while the top of the screen stays readable (fewer
notifications pile up from the bottom)."""
PANE = "▕"
"""The border between the conversation list and the thread."""

Spawn = Callable[..., Terminal]


def start_demo(spawn: Spawn, db: Path, pace: float = QUIET, columns: int = 100, rows: int = 30) -> Terminal:
    """`wa-inbox demo` on `db`, once the four seeded conversations are on screen."""
    terminal = spawn("demo", "--db", str(db), "--pace", str(pace), columns=columns, rows=rows)
    terminal.wait_for(lambda: all(seed.name in terminal.screen_text() for seed in SEEDS), timeout=20)
    return terminal


def list_part(line: str) -> str:
    """The conversation list's share of a screen line (all of it where there is no thread pane)."""
    return line.split(PANE, 1)[0]


def row_of(terminal: Terminal, name: str) -> str:
    """The conversation list's row showing `name`."""
    rows = [list_part(line) for line in terminal.lines() if name in list_part(line)]
    assert rows, f"{name} is not in the conversation list:\n{terminal.dump()}"
    return rows[0]


def cursor_row(terminal: Terminal) -> int | None:
    """The screen line of the list's cursor: the one line between the status line and the footer whose
    first cell has a background of its own (the list's other rows, filled or blank, share the list's)."""
    body = range(1, terminal.rows - 1)
    backgrounds = [terminal.background(y) for y in body]
    lone = [y for y, bg in zip(body, backgrounds, strict=True) if backgrounds.count(bg) == 1]
    return lone[0] if len(lone) == 1 else None


def highlighted(terminal: Terminal) -> str | None:
    """The list row with the cursor, as drawn."""
    y = cursor_row(terminal)
    return None if y is None else list_part(terminal.lines()[y])


def is_highlighted(terminal: Terminal, name: str) -> bool:
    return name in (highlighted(terminal) or "")


def move_to(terminal: Terminal, name: str) -> None:
    """Arrow keys, one burst each (as a person presses them), until `name` is highlighted."""
    terminal.wait_for(lambda: any(name in list_part(line) for line in terminal.lines()))
    for _ in range(40):
        if is_highlighted(terminal, name):
            return
        here = cursor_row(terminal) or 0
        there = next(y for y, line in enumerate(terminal.lines()) if name in list_part(line))
        terminal.keys("down" if there > here else "up")
        terminal.wait_for(lambda here=here: cursor_row(terminal) != here, timeout=5)
    raise AssertionError(f"could not move to {name}:\n{terminal.dump()}")


def back_to_list(terminal: Terminal) -> None:
    """Esc, then wait until the footer offers the list's keys (⏎ Open) again: the next key is the list's.

    Waiting also keeps Esc alone in its read, as a person's Esc is (glued to the next key's bytes, the
    terminal would be saying alt+that key)."""
    terminal.keys("escape")
    terminal.wait_for(lambda: "Open" in terminal.lines()[-1])


def composer_text(terminal: Terminal) -> str | None:
    """What the composer box (the last ╭…╰ box on screen) shows, each line stripped of the box's padding,
    joined by newlines; None when no whole box is on screen (not drawn yet, or something drawn over it)."""
    lines = terminal.lines()
    tops = [y for y, line in enumerate(lines) if "╭" in line]
    if not tops:
        return None
    top, column = tops[-1], lines[tops[-1]].index("╭")
    bottom = next((y for y in range(top + 1, len(lines)) if "╰" in lines[y]), None)
    if bottom is None:
        return None
    inside = [line[column + 1 :].split("│", 1)[0].strip() for line in lines[top + 1 : bottom]]
    return "\n".join(inside).strip("\n")


def thread_part(line: str) -> str:
    """The thread pane's share of a screen line (empty where there is none)."""
    return line.split(PANE, 1)[1] if PANE in line else ""


def thread_text(terminal: Terminal) -> str:
    return "\n".join(thread_part(line) for line in terminal.lines())


def number(address: str) -> str:
    """A contact's number as the thread's header shows it (the list shows names only)."""
    return address.removeprefix("whatsapp:")


def open_conversation(terminal: Terminal, name: str, address: str) -> None:
    """Highlight `name` in the list with arrow keys and press Enter; back once its thread is shown."""
    move_to(terminal, name)
    terminal.keys("enter")
    terminal.wait_for(lambda: number(address) in thread_text(terminal))


def rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Read-only, so a test never takes a lock the app's writer needs."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()


def sent_to(db: Path, address: str) -> list[str]:
    """Bodies of the agent's messages to `address` that were not seeded by the demo."""
    seeded = {"Olá Ana! Vou verificar agora.", "Any news on your order?"}
    bodies = rows(
        db, "SELECT body FROM messages WHERE direction = 'out' AND address = ? ORDER BY id", address
    )
    return [body for (body,) in bodies if body not in seeded]


def accepted(db: Path, address: str, body: str) -> bool:
    """Twilio (the emulator) took the agent's message `body` to `address`: a double send is queued by then."""
    found = rows(
        db,
        "SELECT 1 FROM messages WHERE direction = 'out' AND address = ? AND body = ?"
        " AND status IN ('accepted', 'queued', 'sent', 'delivered', 'read')",
        address,
        body,
    )
    return bool(found)


def unread(db: Path) -> set[str]:
    """Addresses with an inbound message the agent has not seen."""
    found = rows(
        db,
        "SELECT DISTINCT address FROM messages WHERE direction = 'in' AND read_by_agent_at IS NULL",
    )
    return {address for (address,) in found}


def inbound_count(db: Path) -> int:
    """Customer messages committed so far (the demo seeds four)."""
    if not db.exists():
        return 0
    try:
        ((count,),) = rows(db, "SELECT COUNT(*) FROM messages WHERE direction = 'in'")
    except sqlite3.OperationalError:  # not migrated yet
        return 0
    return int(count)
