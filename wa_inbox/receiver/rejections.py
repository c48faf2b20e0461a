"""What a rejected request may cost: a bounded sample in the raw log, at a bounded rate, and a count.

Anyone can post to the receiver; only a valid signature makes a request Twilio's. So a rejection is
kept as a sample of a few kilobytes (`sample`: the body and headers cut, with the sizes they had), and
only as many as two token buckets allow (`RejectionLog`): one per source address and reason, so one
sender cannot crowd out the rest, and one for all of them, so many senders together cannot fill the
disk either. A rejection over either budget is still answered as always, but neither stored nor
logged on its own line: it is counted, and the count goes to the log once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from wa_inbox.domain.models import Verdict, WebhookKind, WebhookRecord

log = logging.getLogger("wa_inbox.receiver")

BODY_KEPT = 1024
"""Characters of a rejected body kept: Twilio's whole webhooks are about this size."""
HEADER_VALUE_KEPT = 256
HEADER_NAME_KEPT = 64
HEADERS_KEPT = 1536
"""Characters of header names and values kept, in arrival order, each value cut at `HEADER_VALUE_KEPT`."""
SID_KEPT = 34
PATH_KEPT = 256


@dataclass(frozen=True, slots=True)
class Budget:
    """A token bucket: `burst` at once, then one more every `1 / per_second` seconds."""

    burst: int
    per_second: float


PER_SOURCE = Budget(burst=10, per_second=0.1)
"""Per source address and reason: ten at once, then one every ten seconds."""
OVERALL = Budget(burst=100, per_second=1.0)
"""For every source together: at most 86,400 rows a day (a few hundred MB) under a flood from anywhere."""
SOURCES_TRACKED = 4096
"""Buckets kept (least recently used dropped): a forger changing addresses meets `OVERALL` anyway."""
SUMMARY_SECONDS = 60.0
COUNTED_KEYS = 256
"""Distinct (source, reason) counts kept between two summaries; the rest are added up as one."""


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens, self.at = tokens, at

    def take(self, budget: Budget, now: float) -> bool:
        self.tokens = min(budget.burst, self.tokens + (now - self.at) * budget.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RejectionLog:
    """Decides which rejections are kept (`admit`), and reports the others in a periodic summary."""

    def __init__(
        self,
        per_source: Budget = PER_SOURCE,
        overall: Budget = OVERALL,
        summary_seconds: float = SUMMARY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_source, self._overall = per_source, overall
        self._summary_seconds = summary_seconds
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()
        self._all = _Bucket(overall.burst, clock())
        self._dropped: Counter[tuple[str, str]] = Counter()
        self._summary: asyncio.TimerHandle | None = None
        self.dropped_total = 0
        """Rejections not kept since start-up: for tests and for the summary."""

    def admit(self, source: str, reason: str) -> bool:
        """Whether this rejection may be stored and logged; if not, it is counted for the summary."""
        now, key = self._clock(), (source, reason)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._per_source.burst, now)
            if len(self._buckets) > SOURCES_TRACKED:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        if bucket.take(self._per_source, now) and self._all.take(self._overall, now):
            return True
        self._drop(key)
        return False

    def _drop(self, key: tuple[str, str]) -> None:
        self.dropped_total += 1
        if key in self._dropped or len(self._dropped) < COUNTED_KEYS:
            self._dropped[key] += 1
        else:
            self._dropped[("other sources", "other reasons")] += 1
        if self._summary is None:
            loop = asyncio.get_running_loop()
            self._summary = loop.call_later(self._summary_seconds, self.summarise)

    def summarise(self) -> None:
        """Log how many rejections went unrecorded since the last summary, and from where."""
        self._summary = None
        dropped, self._dropped = self._dropped, Counter()
        total = sum(dropped.values())
        if not total:
            return
        top = ", ".join(f"{n} from {source} ({reason})" for (source, reason), n in dropped.most_common(5))
        more = f", and {len(dropped) - 5} more sources or reasons" if len(dropped) > 5 else ""
        log.warning(
            "%d rejected requests in the last %.0f s were answered but not recorded (rate limit): %s%s",
            total,
            self._summary_seconds,
            top,
            more,
        )


def sample(
    kind: WebhookKind,
    path: str,
    verdict: Verdict,
    reason: str,
    received_at: datetime,
    body: str,
    body_bytes: int | None,
    headers: Mapping[str, str],
    raw_headers: Sequence[tuple[bytes, bytes]],
    message_sid: str | None,
) -> WebhookRecord:
    """The rejection as the raw log keeps it: a few kilobytes at most, with the sizes that came."""
    kept: dict[str, str] = {}
    room = HEADERS_KEPT
    for name, value in headers.items():
        name, value = name[:HEADER_NAME_KEPT], value[:HEADER_VALUE_KEPT]
        room -= len(name) + len(value)
        if room < 0:
            break
        kept[name] = value
    header_bytes = sum(len(name) + len(value) + 4 for name, value in raw_headers)
    return WebhookRecord(
        kind,
        path[:PATH_KEPT],
        verdict,
        body[:BODY_KEPT],
        kept,
        received_at,
        reason,
        message_sid[:SID_KEPT] if message_sid else None,
        body_bytes,
        header_bytes,
    )
