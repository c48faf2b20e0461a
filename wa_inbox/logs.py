"""Logging set-up for the long-running commands: every line prefixed, and cheap records.

The receiver writes a structured line per webhook; with the standard defaults every record also
walks the stack for its source line and asks for thread and process names, which showed in the
ingest profile. Those fields are not in our format, so they are turned off (see "Optimization" in
the `logging` documentation), and the time stamp is formatted once a second, not once a line.
Even so a record costs more than the rest of a webhook's own work, so the per-webhook lines of one
event-loop turn go as one record (`TurnLines`): the text written is the same.

Two formats (`[log] format`): text, a prefix on every line, so that no value (a forged webhook's)
can start a line of its own; and JSON, one object per line (`JsonFormatter`, for journald or Loki),
with the record's fields (`extra=`) beside the message. Both write what the code logs and nothing
else: secrets and presigned URLs stay out because they are never logged, whatever the format.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LINE_FIELDS = "turn_fields"
"""A `TurnLines` record's attribute: the fields of each of its lines, in order."""
FIELD_CHARS = 256
"""A field's text value in a JSON line is cut at this many characters (the message is whole)."""
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's message again, with terminal colours
    LINE_FIELDS,
}
"""A record's own attributes, and uvicorn's coloured copy of its message: everything else on a record
came as a field (`extra=`)."""


class Formatter(logging.Formatter):
    """`FORMAT`, rendered directly (the time stamp once per second) rather than through `%`-styles.

    A message of several lines gets the prefix on each line, so that every line read alone (in the
    journal, with grep) says when, how bad and from where. Records with a traceback or stack take
    the standard path.
    """

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._cached = (-1, "")  # (second, its text) in one tuple: threads swap it whole

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            return super().format(record)
        prefix = f"{self.formatTime(record)} {record.levelname} {record.name} "
        return prefix + record.getMessage().replace("\n", "\n" + prefix)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, stamp = self._cached
        if int(record.created) != second:
            second, stamp = int(record.created), super().formatTime(record).rpartition(",")[0]
            self._cached = (second, stamp)
        return f"{stamp},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time` (ISO 8601, UTC), `level`, `logger`, `message`, then the
    record's fields (`extra=`: message_sid, status, error_code, request_id, http_status, …), and
    `exception` with a traceback. JSON escapes every control character, so a value cannot break the
    line. A `TurnLines` record becomes one object per line, each with its own fields.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cached = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        base = {"time": self._time(record), "level": record.levelname, "logger": record.name}
        fields = _fields(record)
        per_line: list[Mapping[str, Any] | None] | None = getattr(record, LINE_FIELDS, None)
        message = record.getMessage()
        if per_line is not None:
            lines = message.split("\n")
            return "\n".join(
                _dumps({**base, "message": line, **fields, **_bounded(extra or {})})
                for line, extra in zip(lines, per_line, strict=False)
            )
        entry = {**base, "message": message, **fields}
        if record.exc_info or record.exc_text or record.stack_info:
            entry["exception"] = (self.formatException(record.exc_info) if record.exc_info else "") + (
                self.formatStack(record.stack_info) if record.stack_info else ""
            )
        return _dumps(entry)

    def _time(self, record: logging.LogRecord) -> str:
        """`2026-04-14T12:00:00.123Z`; the part up to the second is made once a second."""
        second, stamp = self._cached
        if int(record.created) != second:
            second = int(record.created)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._cached = (second, stamp)
        return f"{stamp}.{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return _bounded({k: v for k, v in record.__dict__.items() if k not in _STANDARD and k[0] != "_"})


def _bounded(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers, booleans and None as they are; anything else as text, cut at `FIELD_CHARS`."""
    kept: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None or isinstance(value, bool | int | float):
            kept[key] = value
        else:
            text = str(value)
            kept[key] = text if len(text) <= FIELD_CHARS else text[:FIELD_CHARS] + "…"
    return kept


def _dumps(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, default=str)


class TurnLines:
    """Lines logged at INFO as one record per event-loop turn, each line keeping its own prefix (and,
    in JSON, its own fields).

    For the receiver's line per webhook: a record each cost ~15 µs under load, a tenth of the whole
    request. Use from the event loop's thread only.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._lines: list[str] = []
        self._fields: list[Mapping[str, Any] | None] = []

    def add(self, line: str, fields: Mapping[str, Any] | None = None) -> None:
        """Log `line` at the end of this loop turn; `fields` go with it in a JSON log."""
        if not self._lines:
            asyncio.get_running_loop().call_soon(self._flush)
        self._lines.append(line)
        self._fields.append(fields)

    def _flush(self) -> None:
        lines, self._lines = self._lines, []
        fields, self._fields = self._fields, []
        self._logger.info("\n".join(lines), extra={LINE_FIELDS: fields})


LogFormat = Literal["text", "json"]
_fields_wanted = False


def fields_wanted() -> bool:
    """Whether the log is JSON, which shows a record's fields: the receiver builds its per-webhook
    fields only then (they cost as much as the rest of its line)."""
    return _fields_wanted


def configure_logging(
    level: int = logging.INFO, file: Path | None = None, log_format: LogFormat = "text"
) -> None:
    """The root logger to a file (or stderr) in `log_format`; the process's one logging set-up."""
    global _fields_wanted
    _fields_wanted = log_format == "json"
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # documented switch: no caller lookup
    handler: logging.Handler = logging.FileHandler(file) if file else logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
