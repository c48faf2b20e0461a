"""Logging set-up for the long-running commands: one line per record, and cheap records.

The receiver writes a structured line per webhook; with the standard defaults every record also
walks the stack for its source line and asks for thread and process names, which showed in the
ingest profile. Those fields are not in our format, so they are turned off (see "Optimization" in
the `logging` documentation).
"""

from __future__ import annotations

import logging
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: int = logging.INFO, file: Path | None = None) -> None:
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]  # documented switch: no caller lookup
    handler: logging.Handler = logging.FileHandler(file) if file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
