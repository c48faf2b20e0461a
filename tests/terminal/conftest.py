"""A `spawn` fixture: real terminals that are always closed (ctrl+q, then killed) when the test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.terminal import Terminal


@pytest.fixture
def spawn() -> Iterator[Callable[..., Terminal]]:
    """`spawn("demo", "--db", PATH)` runs `wa-inbox demo --db PATH` on a fresh pty (100x30 unless told)."""
    started: list[Terminal] = []

    def start(*args: str, columns: int = 100, rows: int = 30) -> Terminal:
        started.append(Terminal(*args, columns=columns, rows=rows))
        return started[-1]

    yield start
    for terminal in started:
        terminal.close()
