"""Conversions between domain values and SQLite column values, shared by reads and writes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def ts(moment: datetime) -> str:
    """UTC ISO-8601 with a fixed width (`_FORMAT`), so that text order is time order.

    `isoformat` with fixed microseconds gives the same text as `strftime(_FORMAT)` in a third of the time.
    """
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str | None) -> datetime | None:
    return parse_required_ts(text) if text else None


def parse_required_ts(text: str) -> datetime:
    """`parse_ts` for a NOT NULL column: always a time.

    `fromisoformat` reads `_FORMAT` (and the migrations' millisecond stamps) about 15 times faster than
    `strptime`, which was a third of listing a year's 10,000 conversations."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def to_json(value: Mapping[str, Any] | Sequence[Any] | None) -> str | None:
    return None if value is None else _JSON.encode(value)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


_SECRET_HEADERS = frozenset({"x-twilio-signature", "authorization", "cookie", "proxy-authorization"})


def secret_header(name: str) -> bool:
    """Never kept in the raw log, whichever backend keeps it: a valid signature, credentials, cookies."""
    return name.lower() in _SECRET_HEADERS
