"""The embedded receiver's and sender's log, inside the app (the terminal itself is Textual's)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Log

from wa_inbox.logs import Formatter

KEPT_LINES = 2000


class LogBuffer(logging.Handler):
    """Keeps the latest lines for the log screen; the log file keeps everything."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(Formatter())
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)
        self.viewer: LogScreen | None = None

    def emit(self, record: logging.LogRecord) -> None:
        lines = self.format(record).split("\n")  # a record may carry several lines: see `TurnLines`
        self.lines.extend(lines)
        if self.viewer is not None:
            self.viewer.post_message(LogScreen.Lines(lines))  # thread-safe: any thread may log


class LogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,ctrl+l", "dismiss", "Close")]

    @dataclass
    class Lines(Message):
        lines: list[str]

    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__()
        self._buffer = buffer

    def compose(self) -> ComposeResult:
        yield Log(id="log-lines", max_lines=KEPT_LINES)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Log).write_lines(list(self._buffer.lines))
        self._buffer.viewer = self

    def on_unmount(self) -> None:
        self._buffer.viewer = None

    def on_log_screen_lines(self, message: Lines) -> None:
        self.query_one(Log).write_lines(message.lines)
