"""The wall clock: one definition of "now" for every layer, and the type of a stand-in for tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Something that tells the time: `utc_now` in production, a hand-moved stand-in in tests."""


def utc_now() -> datetime:
    """Now, as an aware datetime in UTC (never naive: the store writes and compares UTC only)."""
    return datetime.now(UTC)
