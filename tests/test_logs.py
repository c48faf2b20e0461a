"""The log formatter takes shortcuts, but writes what the standard one would, line by line; lines
batched per loop turn come out as if logged one by one."""

from __future__ import annotations

import asyncio
import logging
import sys

from hypothesis import given
from hypothesis import strategies as st

from wa_inbox.logs import FORMAT, Formatter, TurnLines

formatter = Formatter()  # shared across examples, so its per-second cache is exercised


def record_at(created: float, message: str) -> logging.LogRecord:
    record = logging.LogRecord("wa_inbox.receiver", logging.INFO, "", 0, message, (), None)
    record.created, record.msecs = created, (created - int(created)) * 1000
    return record


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False), st.text())
def test_each_line_equals_the_standard_formatters_line(created: float, message: str) -> None:
    expected = [logging.Formatter(FORMAT).format(record_at(created, line)) for line in message.split("\n")]
    assert formatter.format(record_at(created, message)).split("\n") == expected


async def test_a_turns_lines_go_as_one_record_with_a_prefix_on_each_line() -> None:
    records: list[logging.LogRecord] = []
    logger = logging.getLogger("wa_inbox.test_turn_lines")
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    lines = TurnLines(logger)
    try:
        lines.add("first")
        lines.add("second")
        assert records == []  # not before the turn ends
        await asyncio.sleep(0)
        lines.add("next turn")
        await asyncio.sleep(0)
    finally:
        logger.removeHandler(handler)

    assert [record.getMessage() for record in records] == ["first\nsecond", "next turn"]
    text = formatter.format(records[0]).split("\n")
    assert [line.split(" INFO wa_inbox.test_turn_lines ")[1] for line in text] == ["first", "second"]


def test_tracebacks_are_kept() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("wa_inbox", logging.ERROR, "", 0, "failed %s", ("x",), sys.exc_info())
    line = formatter.format(record)
    assert line == logging.Formatter(FORMAT).format(record)
    assert line.splitlines()[0].endswith("ERROR wa_inbox failed x") and "ValueError: boom" in line
