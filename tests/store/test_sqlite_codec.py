"""Column encodings: time stamps keep one width, so that text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from wa_inbox.store.codec import _FORMAT, parse_ts, ts

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 30), timezones=st.just(UTC) | offsets
)


@given(moments)
def test_the_fast_format_is_strftimes_and_reads_back(moment: datetime) -> None:
    assert ts(moment) == moment.astimezone(UTC).strftime(_FORMAT)
    assert parse_ts(ts(moment)) == moment


@given(moments, moments)
def test_text_order_is_time_order(first: datetime, second: datetime) -> None:
    assert (ts(first) < ts(second)) == (first < second)
