"""Outbound benchmark: does the sender hold the configured rate, and what does a message cost in CPU?

Everything runs in this one process, as `wa-inbox demo` does: the Twilio emulator, the receiver taking
its status callbacks, and the outbox sender. N approved-template messages (so no customer window has
to be opened first) go to N distinct customers through `Outbox.submit`; the script then measures
  - the wall time from the first submit until the emulator has all N create requests, hence the rate
    achieved against `outbox.rate_per_second` (goal: within 5 %);
  - the time until the store has all N as `read` (the emulator walks each through sent, delivered, read);
  - process CPU time per message over that whole run: emulator, receiver and sender together.
With --sender-only the emulator holds every status callback back for an hour, so that only creating
messages competes for the CPU; the time until `read` is then not measured.
Usage: .venv/bin/python bench/outbound.py [--messages 2000] [--rate 200] [--sender-only]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from wa_inbox.config import Settings
from wa_inbox.domain.policy import Draft
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.testing import EmulatedInbox, emulated_inbox

TEMPLATE = BY_NAME["order_shipped"]
MAX_MESSAGES = 10_000  # one customer per number in +1 415 555 0000-9999
GOAL = 0.05
POLL_SECONDS = 0.02
STATUS_DELAY = (0.002, 0.01)
HELD_BACK = (3600.0, 3600.0)


@dataclass(frozen=True, slots=True)
class Figures:
    messages: int
    rate: float
    sent_seconds: float
    read_seconds: float | None
    cpu_seconds: float


def with_rate(rate: float) -> Callable[[Settings], Settings]:
    return lambda s: s.model_copy(update={"outbox": s.outbox.model_copy(update={"rate_per_second": rate})})


def customer(number: int) -> str:
    return f"whatsapp:+1415555{number:04d}"


def read_count(db: Path) -> int:
    """Outbound rows the receiver has moved to `read`, through a separate read-only connection."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'read'"
        ).fetchone()
    return int(count)


async def until(reached: Callable[[], Awaitable[bool]], deadline: float) -> float:
    """The perf_counter time when `reached()` first holds; TimeoutError past `deadline`."""
    while not await reached():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter()


async def run(demo: EmulatedInbox, messages: int, rate: float, wait_for_read: bool) -> Figures:
    outbox, emulator, db = demo.outbox, demo.emulator, demo.settings.store.path
    assert outbox is not None
    drafts = [
        Draft(customer(i), content_sid=TEMPLATE.sid, content_variables={"1": "Ava"}) for i in range(messages)
    ]

    async def all_sent() -> bool:  # the log itself: sent() deep-copies it, O(N) per poll
        return len(emulator.world.sent_log) >= messages

    async def all_read() -> bool:
        return await asyncio.to_thread(read_count, db) >= messages

    cpu, start = time.process_time(), time.perf_counter()
    deadline = start + 3 * messages / rate + 60
    await asyncio.gather(*(outbox.submit(draft) for draft in drafts))
    sent_at = await until(all_sent, deadline)
    read_at = await until(all_read, deadline) if wait_for_read else None
    cpu_seconds = time.process_time() - cpu
    return Figures(messages, rate, sent_at - start, None if read_at is None else read_at - start, cpu_seconds)


async def measure(messages: int, rate: float, sender_only: bool) -> Figures:
    with tempfile.TemporaryDirectory(prefix="wa-inbox-bench-") as scratch:
        db, delay = Path(scratch) / "inbox.db", HELD_BACK if sender_only else STATUS_DELAY
        async with emulated_inbox(db, with_rate(rate), status_delay=delay) as demo:
            return await run(demo, messages, rate, wait_for_read=not sender_only)


def report(figures: Figures) -> None:
    achieved = figures.messages / figures.sent_seconds
    deviation = achieved / figures.rate - 1
    verdict = "meets" if abs(deviation) <= GOAL else "misses"
    read = (
        f"{figures.read_seconds:.2f} s (first submit -> store has every one `read`)"
        if figures.read_seconds is not None
        else "not measured (--sender-only holds the status callbacks back)"
    )
    print(f"messages          {figures.messages} approved templates to distinct customers (no window needed)")
    print(f"configured rate   {figures.rate:g}/s")
    print(f"all created in    {figures.sent_seconds:.2f} s (first submit -> emulator has every request)")
    print(f"achieved rate     {achieved:.1f}/s, {deviation:+.1%} ({verdict} the ±5 % goal)")
    print(f"all read in       {read}")
    per_message = figures.cpu_seconds / figures.messages * 1000
    print(f"CPU per message   {per_message:.2f} ms (process time: emulator and receiver are in it too)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000, help=f"1 to {MAX_MESSAGES}")
    parser.add_argument("--rate", type=float, default=200.0, help="outbox.rate_per_second")
    parser.add_argument("--sender-only", action="store_true", help="hold status callbacks back")
    args = parser.parse_args()
    if not 1 <= args.messages <= MAX_MESSAGES or args.rate <= 0:
        parser.error(f"--messages takes 1 to {MAX_MESSAGES}, and --rate a positive number")
    try:
        figures = asyncio.run(measure(args.messages, args.rate, args.sender_only))
    except TimeoutError:
        print("Not every message was created (and read) in time.", file=sys.stderr)
        sys.exit(1)
    report(figures)


if __name__ == "__main__":
    main()
