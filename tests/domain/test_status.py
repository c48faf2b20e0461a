from __future__ import annotations

from functools import reduce
from itertools import permutations

import pytest

from wa_inbox.domain.status import FAILED, PENDING, TERMINAL, rank, supersedes, tick


def apply(current: str, new: str) -> str:
    return new if supersedes(new, current) else current


def test_ranks() -> None:
    expected = {
        PENDING: 0,
        "accepted": 1,
        "scheduled": 1,
        "queued": 1,
        "receiving": 1,
        "received": 1,
        "sending": 2,
        "sent": 3,
        "delivered": 4,
        "partially_delivered": 4,
        "read": 5,
        "failed": 5,
        "undelivered": 5,
        "canceled": 5,
    }
    assert {status: rank(status) for status in expected} == expected


def test_unknown_status_ranks_like_queued() -> None:
    assert rank("teleported") == 1
    assert supersedes("teleported", PENDING)
    assert not supersedes("teleported", "sent")


def test_sets() -> None:
    assert frozenset({"read", "failed", "undelivered", "canceled"}) == TERMINAL
    assert frozenset({"failed", "undelivered", "canceled"}) == FAILED
    assert [tick(s) for s in ("pending", "sent", "delivered", "read", "canceled", "new")] == [
        "🕓",
        "✓",
        "✓✓",
        "✓✓",
        "✗",
        "·",
    ]


@pytest.mark.parametrize("order", list(permutations(["queued", "sent", "delivered", "read"])))
def test_any_arrival_order_ends_at_read(order: tuple[str, ...]) -> None:
    assert reduce(apply, order, PENDING) == "read"


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "failed"], "failed"),
        (["read", "failed"], "read"),
        (["failed", "delivered"], "failed"),
        (["delivered", "undelivered"], "undelivered"),
        (["delivered", "sent"], "delivered"),
        (["sending", "queued"], "sending"),
    ],
)
def test_sequences(sequence: list[str], final: str) -> None:
    assert reduce(apply, sequence, PENDING) == final


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_terminal_is_never_left(terminal: str) -> None:
    others = ["queued", "sent", "delivered", "new-status", *TERMINAL - {terminal}]
    assert not any(supersedes(other, terminal) for other in others)


def test_same_status_does_not_supersede() -> None:
    assert not supersedes("sent", "sent")
