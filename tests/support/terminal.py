"""The installed `wa-inbox` in a real pseudo-terminal, read back through a terminal emulator (pyte).

Pilot tests hand Textual one key at a time and wait in between. A person on SSH or tmux does not: the
terminal delivers what they typed in bursts, one read() of many bytes, and the app must keep up. Here
every `send` is one os.write, so a burst reaches the app exactly as a fast typist's would.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pexpect
import pyte

KEYS = {"enter": "\r", "escape": "\x1b", "tab": "\t", "backspace": "\x7f", "f1": "\x1bOP", "f2": "\x1bOQ"}
KEYS |= {"up": "\x1b[A", "down": "\x1b[B", "right": "\x1b[C", "left": "\x1b[D", "f3": "\x1bOR"}
KEYS |= {"home": "\x1b[H", "end": "\x1b[F", "pageup": "\x1b[5~", "pagedown": "\x1b[6~"}
"""What xterm sends for each key (normal cursor mode, as Textual leaves it)."""
SYNC_QUERY, SYNC_SUPPORTED = b"\x1b[?2026$p", "\x1b[?2026;2$y"
SYNC_BEGIN, SYNC_END = b"\x1b[?2026h", b"\x1b[?2026l"
"""Synchronized output (mode 2026): the app asks whether the terminal has it, then brackets each frame."""


def key(name: str) -> str:
    """The bytes of one key: a name from KEYS, `ctrl+x`, or a literal character."""
    if name.startswith("ctrl+") and len(name) == 6:
        return chr(ord(name[-1].lower()) & 0x1F)
    return KEYS.get(name, name)


def console_script(name: str = "wa-inbox") -> str:
    """The script pip installed beside this interpreter: the code under test, as a user starts it."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: run `.venv/bin/pip install -e '.[test]'`"
    return found


def terminal_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment (tests/conftest.py isolated it) as a modern terminal sets it; without
    COLUMNS/LINES (Rich would size by them, not by the pty) and TEXTUAL_* (drivers, devtools)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES") and not k.startswith("TEXTUAL")
    }
    env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    for kind in ("config", "data", "state", "cache"):
        env.setdefault(f"XDG_{kind.upper()}_HOME", str(home / f"xdg-{kind}"))
    return {**env, **(extra or {})}


def _whole_frames(data: bytes) -> int:
    """How much of `data` can be shown: all of it, but for an update begun and not yet ended."""
    begin, end = data.rfind(SYNC_BEGIN), data.rfind(SYNC_END)
    if begin > end:
        return begin
    tail = next((n for n in range(len(SYNC_BEGIN) - 1, 0, -1) if data.endswith(SYNC_BEGIN[:n])), 0)
    return len(data) - tail


def _told(what: object) -> str:
    """A predicate as the test wrote it (its source line), so a timeout says what was awaited."""
    try:
        return inspect.getsource(what).strip() if callable(what) else repr(what)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return repr(what)


class Terminal:
    """One program on a pty of `columns` x `rows`; a thread feeds everything it draws into a pyte screen."""

    def __init__(
        self, *args: str, columns: int = 100, rows: int = 30, env: Mapping[str, str] | None = None
    ) -> None:
        self.columns, self.rows = columns, rows
        self._screen = pyte.Screen(columns, rows)
        self._screen.write_process_input = self._answer  # type: ignore[method-assign]
        self._stream = pyte.ByteStream(self._screen)
        self._lock = threading.Lock()
        home = Path.cwd()
        self._child = pexpect.spawn(
            console_script(), list(args), dimensions=(rows, columns), env=terminal_env(home, env), cwd=home
        )
        self._reader = threading.Thread(target=self._pump, name="pty-reader", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        """Drain the pty all the time (a program blocked on a full pty would freeze), showing whole frames
        only: a synchronized update waits for its end, so a test never reads half a redraw."""
        pending = b""
        while True:
            try:
                data = self._child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                return
            if SYNC_QUERY in data:
                self._answer(SYNC_SUPPORTED)
            pending += data
            cut = _whole_frames(pending)
            with self._lock:
                self._stream.feed(pending[:cut])
            pending = pending[cut:]

    def _answer(self, reply: str) -> None:
        """A real terminal answers queries: device attributes (textual-image asks before Textual starts)
        and, as tmux, kitty or WezTerm do, whether it has synchronized output (Textual asks)."""
        with contextlib.suppress(OSError):
            os.write(self._child.child_fd, reply.encode())

    def send(self, text: str) -> None:
        """`text` as ONE write: the app reads it as a single burst, like keys typed faster than it draws."""
        data = text.encode()
        assert os.write(self._child.child_fd, data) == len(data), "the pty took only part of the burst"

    def keys(self, *names: str) -> None:
        """Several keys (see `key`) in one burst, e.g. keys("escape") or keys("down", "enter")."""
        self.send("".join(key(name) for name in names))

    def lines(self) -> list[str]:
        with self._lock:
            return [line.rstrip() for line in self._screen.display]

    def screen_text(self) -> str:
        return "\n".join(self.lines())

    def background(self, row: int, column: int = 0) -> str:
        """The background colour of one cell (pyte's name or hex): how a highlighted row shows itself."""
        with self._lock:
            return str(self._screen.buffer[row][column].bg)

    def wait_for(self, what: str | Callable[[], object], timeout: float = 10.0) -> None:
        """Until the text `what` is on screen, or the predicate `what()` holds; else fail with the screen.

        Polling the screen is the only honest wait: nothing in a real terminal says "the app is done"."""

        def holds() -> bool:
            return what in self.screen_text() if isinstance(what, str) else bool(what())

        deadline = time.monotonic() + timeout
        while not holds():
            if time.monotonic() > deadline or not self.alive:
                state = "still running" if self.alive else f"exited ({self._child.exitstatus})"
                raise AssertionError(f"waited {timeout} s for {_told(what)}, program {state}:\n{self.dump()}")
            time.sleep(0.05)

    def dump(self) -> str:
        """The screen in a frame, for failure messages."""
        rule = "+" + "-" * self.columns + "+"
        return "\n".join([rule, *(f"|{line.ljust(self.columns)}|" for line in self.lines()), rule])

    @property
    def alive(self) -> bool:
        return bool(self._child.isalive())

    def close(self, timeout: float = 15.0) -> int | None:
        """Quit as the agent does (ctrl+q), so the store closes cleanly; kill only if that hangs."""
        if self.alive:
            self.keys("ctrl+q")
            deadline = time.monotonic() + timeout
            while self.alive and time.monotonic() < deadline:
                time.sleep(0.05)
        if self.alive:
            self._child.terminate(force=True)
        self._reader.join(timeout=5)  # it stops at the pty's end of file
        self._child.close()
        return self._child.exitstatus

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
