"""Logging set-up for the long-running commands: one line per record, and cheap records.

The receiver writes a structured line per webhook; with the standard defaults every record also
walks the stack for its source line and asks for thread and process names, which showed in the
ingest profile. Those fields are not in our format, so they are turned off (see "Optimization" in
the `logging` documentation), and the time stamp is formatted once a second, not once a line.
"""

from __future__ import annotations

import logging
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class Formatter(logging.Formatter):
    """`FORMAT`, rendered directly (the time stamp once per second) rather than through `%`-styles.

    Records with a traceback or stack take the standard path; the text is the same either way.
    """

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._cached = (-1, "")  # (second, its text) in one tuple: threads swap it whole

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        return f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, stamp = self._cached
        if int(record.created) != second:
            second, stamp = int(record.created), super().formatTime(record).rpartition(",")[0]
            self._cached = (second, stamp)
        return f"{stamp},{int(record.msecs):03d}"


def configure_logging(level: int = logging.INFO, file: Path | None = None) -> None:
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]  # documented switch: no caller lookup
    handler: logging.Handler = logging.FileHandler(file) if file else logging.StreamHandler()
    handler.setFormatter(Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
