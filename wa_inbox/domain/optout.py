"""Opt-out keywords: a plain WhatsApp sender gets no STOP handling from Twilio, so we do our own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_STOP_KEYWORDS = ("stop", "stopall", "unsubscribe", "cancel", "end", "quit")
DEFAULT_START_KEYWORDS = ("start", "unstop", "subscribe")


class OptAction(StrEnum):
    STOP = "stop"
    START = "start"


@dataclass(frozen=True, slots=True)
class OptKeywords:
    """The configured keywords, already case-folded so classifying is a set lookup."""

    stop: frozenset[str]
    start: frozenset[str]

    @classmethod
    def from_lists(cls, stop: Iterable[str], start: Iterable[str]) -> OptKeywords:
        """Normalise configured lists; a keyword in both would be ambiguous, so refuse it."""
        stops, starts = _normalise(stop), _normalise(start)
        if both := stops & starts:
            names = ", ".join(repr(k) for k in sorted(both))
            raise ValueError(f"Keywords go in one list only: remove {names} from the opt-out or opt-in list.")
        return cls(stop=stops, start=starts)

    def classify(self, body: str) -> OptAction | None:
        """Match the whole message only, so "don't stop" or "stop please" never opt anyone out."""
        text = body.strip().casefold()
        if text in self.stop:
            return OptAction.STOP
        if text in self.start:
            return OptAction.START
        return None


def _normalise(keywords: Iterable[str]) -> frozenset[str]:
    """Case-fold and trim; blank entries are dropped since they would match an empty body."""
    return frozenset(k for k in (raw.strip().casefold() for raw in keywords) if k)
