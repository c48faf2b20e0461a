from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wa_inbox.domain.window import WINDOW, expires_at, format_remaining, is_open, remaining

INBOUND = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_window_is_24_hours() -> None:
    assert timedelta(hours=24) == WINDOW


def test_expires_at() -> None:
    assert expires_at(INBOUND) == datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    assert expires_at(None) is None


@pytest.mark.parametrize(
    ("elapsed", "open_"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24), False),
        (timedelta(days=3), False),
    ],
)
def test_is_open(elapsed: timedelta, open_: bool) -> None:
    assert is_open(INBOUND, INBOUND + elapsed) is open_


def test_never_written_is_closed() -> None:
    assert not is_open(None, INBOUND)
    assert remaining(None, INBOUND) == timedelta(0)


def test_remaining() -> None:
    assert remaining(INBOUND, INBOUND + timedelta(minutes=19)) == timedelta(hours=23, minutes=41)


def test_remaining_is_never_negative() -> None:
    assert remaining(INBOUND, INBOUND + timedelta(days=2)) == timedelta(0)


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (timedelta(hours=23, minutes=41), "23:41"),
        (timedelta(hours=23, minutes=41, seconds=59), "23:41"),
        (timedelta(hours=24), "24:00"),
        (timedelta(minutes=5), "0:05"),
        (timedelta(seconds=30), "0:00"),
        (timedelta(0), "closed"),
        (timedelta(seconds=-1), "closed"),
    ],
)
def test_format_remaining(left: timedelta, shown: str) -> None:
    assert format_remaining(left) == shown
