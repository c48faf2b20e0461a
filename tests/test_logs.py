"""The log formatter takes shortcuts, but writes exactly what the standard one would."""

from __future__ import annotations

import logging
import sys

from hypothesis import given
from hypothesis import strategies as st

from wa_inbox.logs import FORMAT, Formatter

formatter = Formatter()  # shared across examples, so its per-second cache is exercised


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False), st.text())
def test_lines_equal_the_standard_formatters(created: float, message: str) -> None:
    record = logging.LogRecord("wa_inbox.receiver", logging.INFO, "", 0, message, (), None)
    record.created, record.msecs = created, (created - int(created)) * 1000
    assert formatter.format(record) == logging.Formatter(FORMAT).format(record)


def test_tracebacks_are_kept() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("wa_inbox", logging.ERROR, "", 0, "failed %s", ("x",), sys.exc_info())
    line = formatter.format(record)
    assert line == logging.Formatter(FORMAT).format(record)
    assert line.splitlines()[0].endswith("ERROR wa_inbox failed x") and "ValueError: boom" in line
