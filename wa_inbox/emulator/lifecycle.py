"""The statuses an outbound WhatsApp message goes through, success or failure."""

from __future__ import annotations

from dataclasses import dataclass

FAIL_AFTER_SENT = frozenset({30003, 30005, 30006, 30007, 30008, 63032, 63049})
"""Codes that Meta reports after accepting the message: they end in 'undelivered'."""


@dataclass(frozen=True)
class Step:
    """One status transition, with the error code that caused it, if any."""

    status: str
    error_code: int | None = None


def plan(failure: int | None, read: bool) -> list[Step]:
    """queued, sent, delivered[, read]; or queued then failed (or sent then undelivered)."""
    if failure is None:
        steps = [Step("queued"), Step("sent"), Step("delivered")]
        return [*steps, Step("read")] if read else steps
    if failure in FAIL_AFTER_SENT:
        return [Step("queued"), Step("sent"), Step("undelivered", failure)]
    return [Step("queued"), Step("failed", failure)]
