"""`[log] format = "json"`: one JSON object per line, with the record's fields, whatever the values."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from typing import Any

from wa_inbox.logs import FIELD_CHARS, JsonFormatter, TurnLines, configure_logging

formatter = JsonFormatter()


def record(message: str, *args: object, level: int = logging.INFO, **fields: Any) -> logging.LogRecord:
    made = logging.getLogger("wa_inbox.test").makeRecord(
        "wa_inbox.test", level, "", 0, message, args, None, extra=fields or None
    )
    made.created, made.msecs = 1_776_168_000.25, 250.0  # 2026-04-14 12:00:00.250 UTC
    return made


def objects(text: str) -> list[dict[str, Any]]:
    lines = text.split("\n")
    return [json.loads(line) for line in lines]


def test_a_line_has_time_level_logger_message_and_the_fields() -> None:
    (line,) = objects(formatter.format(record("sent %s", "it", message_sid="SM1", http_status=201)))

    assert line == {
        "time": "2026-04-14T12:00:00.250Z",
        "level": "INFO",
        "logger": "wa_inbox.test",
        "message": "sent it",
        "message_sid": "SM1",
        "http_status": 201,
    }


def test_no_value_can_break_the_line_or_run_long() -> None:
    hostile = 'x\n{"level": "CRITICAL"}\r\x1b[31m\u2028' + "y" * 5000

    text = formatter.format(record(hostile, reason=hostile, error_code=None))

    assert "\n" not in text
    (line,) = objects(text)
    assert line["message"] == hostile  # the message whole, escaped
    assert line["reason"] == hostile[:FIELD_CHARS] + "…" and line["error_code"] is None
    assert line["level"] == "INFO"


def test_a_traceback_goes_in_the_same_object() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.getLogger("wa_inbox.test").makeRecord(
            "wa_inbox.test", logging.ERROR, "", 0, "failed", (), sys.exc_info()
        )

    (line,) = objects(formatter.format(failed))

    assert line["level"] == "ERROR" and line["message"] == "failed"
    assert "ValueError: boom" in line["exception"] and "Traceback" in line["exception"]


async def test_a_turns_lines_are_an_object_each_with_their_own_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("wa_inbox.test_json_turn")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    lines = TurnLines(logger)
    try:
        lines.add("status verdict=accepted sid=SM1", {"message_sid": "SM1", "status": "delivered"})
        lines.add("status verdict=duplicate sid=SM2", {"message_sid": "SM2", "status": "read"})
        await asyncio.sleep(0)
    finally:
        logger.removeHandler(handler)

    first, second = objects(stream.getvalue().rstrip("\n"))
    assert (first["message"], first["message_sid"], first["status"]) == (
        "status verdict=accepted sid=SM1",
        "SM1",
        "delivered",
    )
    assert (second["message_sid"], second["status"]) == ("SM2", "read")
    assert first["logger"] == second["logger"] == "wa_inbox.test_json_turn"


def test_configure_logging_picks_the_format() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(logging.INFO, log_format="json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        configure_logging(logging.INFO)
        assert not isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
