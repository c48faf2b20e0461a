"""TUI benchmark: the inbox with 10,000 conversations, headless (Textual's `run_test`).

Measures, on a database of N contacts with one message each: the store's query for the whole list,
the time from app start until the list shows all N, the median time of a page-down keypress and of
opening a conversation, and the process's peak memory. The baseline is the same list query alone,
in the same process.

    .venv/bin/python bench/tui.py [--conversations 10000]

With `--db PATH` (a year database made by `bench/seed.py`; left as it is: a copy is upgraded and
measured), it drives the inbox on that database instead (issue #13): the time from app start until the
first page is drawn and until the whole list is loaded; then the list paged down to its end with the
page-down key; then `--opens` conversations opened one after another through `InboxScreen.open` (the
customers with the most messages first, `--heavy` of them, the rest at random), each timed until its
thread is drawn (median, p95, max); last the process's peak RSS (the store's writer process aside).

    .venv/bin/python bench/tui.py --db /tmp/year.db [--opens 100] [--heavy 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wa_inbox.config import Settings
from wa_inbox.domain.models import InboundMessage, Verdict, WebhookKind, WebhookRecord
from wa_inbox.running.services import attached
from wa_inbox.store import open_store, upgrade_in_place
from wa_inbox.store.writer import start_fork_server
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.widgets.conversation_list import ConversationList
from wa_inbox.tui.widgets.thread_view import ThreadView

BUSINESS = "whatsapp:+14155238886"


async def seed(db: Path, count: int) -> float:
    """N customers who each wrote once, through the store's own group-committed writes."""
    store = await open_store(db)
    started = time.perf_counter()
    now = datetime.now(UTC)
    writes = []
    for n in range(count):
        sid = f"SM{n:032x}"
        address = f"whatsapp:+1415{5550000 + n:07d}"
        message = InboundMessage(sid, address, BUSINESS, f"Hello, order {n}", profile_name=f"Customer {n}")
        record = WebhookRecord(WebhookKind.INBOUND, "/bench", Verdict.ACCEPTED, f"MessageSid={sid}", {}, now)
        writes.append(store.ingest_inbound(message, record))
    await asyncio.gather(*writes)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def list_query(db: Path) -> float:
    store = await open_store(db)
    started = time.perf_counter()
    await store.list_conversations()
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def drive(db: Path, count: int) -> tuple[float, list[float], list[float]]:
    app = InboxApp(attached(Settings.model_validate({"store": {"path": db}})))
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        conversations = app.inbox.query_one(ConversationList)
        while len(conversations.conversations) < count:
            await pilot.pause(0.01)
        ready = time.perf_counter() - started
        pages = []
        for _ in range(30):
            tick = time.perf_counter()
            await pilot.press("pagedown")
            pages.append(time.perf_counter() - tick)
        opens = []
        for _ in range(10):
            await pilot.press("ctrl+o", "down")
            wanted = conversations.selected_address
            tick = time.perf_counter()
            await pilot.press("enter")
            while app.inbox.contact is None or app.inbox.contact.address != wanted:
                await pilot.pause(0.001)
            opens.append(time.perf_counter() - tick)
    return ready, pages, opens


def customers(db: Path, opens: int, heavy: int, seed: int) -> tuple[list[str], int]:
    """Whom to open: the `heavy` customers with the most messages (of those with 1,000 or more), then
    random others; and how many customers have 1,000 or more."""
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        counts = conn.execute(
            "SELECT address, COUNT(*) AS n FROM messages GROUP BY address ORDER BY n DESC, address"
        ).fetchall()
    big = [address for address, n in counts if n >= 1000]
    chosen = big[:heavy]
    rest = [address for address, _ in counts if address not in set(chosen)]
    chosen += random.Random(seed).sample(rest, k=min(len(rest), opens - len(chosen)))
    random.Random(seed).shuffle(chosen)
    return chosen, len(big)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def drive_year(db: Path, addresses: list[str], page_keys: int) -> dict[str, Any]:
    """The inbox on a year database, headless: start, page to the end of the list, open each address."""
    app = InboxApp(attached(Settings.model_validate({"store": {"path": db}})))
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        conversations = app.inbox.query_one(ConversationList)
        thread = app.inbox.query_one(ThreadView)
        while not conversations.conversations:
            await pilot.pause(0.001)
        await pilot.pause(0)  # drawn
        first_paint = time.perf_counter() - started
        store = app.inbox._store()
        total = (await store.conversation_counts()).conversations
        while len(conversations.conversations) < total:
            await pilot.pause(0.005)
        loaded = time.perf_counter() - started
        conversations.focus()
        tick, presses = time.perf_counter(), 0
        while conversations.cursor < total - 1:
            await pilot.press(*["pagedown"] * page_keys)
            presses += page_keys
        scrolled = time.perf_counter() - tick
        idle = []  # what the pilot's own step to draw costs with nothing to do
        for _ in range(20):
            tick = time.perf_counter()
            await pilot.pause(0)
            idle.append(time.perf_counter() - tick)
        opens, read, polls = [], [], 0
        for address in addresses:
            tick = time.perf_counter()
            app.inbox.open(address)
            while (
                app.inbox.contact is None
                or app.inbox.contact.address != address
                or not thread.messages
                or thread.messages[-1].address != address
            ):
                polls += 1  # polling the app's state, as the tests do
                await asyncio.sleep(0.0005)
            read.append(time.perf_counter() - tick)
            await pilot.pause(0)  # drawn
            opens.append(time.perf_counter() - tick)
    return {
        "first_paint_s": first_paint,
        "whole_list_s": loaded,
        "conversations": total,
        "page_down_presses": presses,
        "scroll_to_end_s": scrolled,
        "opens_s": opens,
        "read_s": read,
        "idle_draw_s": idle,
    }


def year(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="wa-inbox-tui-year-") as tmp:
        db = Path(tmp) / args.db.name
        for suffix in ("", "-wal"):
            if Path(f"{args.db}{suffix}").exists():
                subprocess.run(["cp", "--reflink=auto", f"{args.db}{suffix}", f"{db}{suffix}"], check=True)
        upgrade_in_place(db, print)
        addresses, big = customers(db, args.opens, args.heavy, args.seed)
        start_fork_server()  # as `wa-inbox tui` does before Textual takes over stderr
        result = asyncio.run(drive_year(db, addresses, args.page_keys))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    opens: list[float] = result["opens_s"]
    median, worst = statistics.median(opens) * 1000, max(opens) * 1000
    print(f"{args.db}: {result['conversations']:,} conversations, {big} customers with 1,000+ messages")
    print(f"first page drawn      {result['first_paint_s'] * 1000:.0f} ms from app start")
    print(f"whole list loaded     {result['whole_list_s'] * 1000:.0f} ms from app start")
    print(f"page-down to the end  {result['scroll_to_end_s']:.1f} s ({result['page_down_presses']} presses)")
    print(
        f"open a conversation   median {median:.1f} ms, p95 {p95(opens) * 1000:.1f} ms, max {worst:.1f} ms "
        f"({len(opens)} opens, {min(args.heavy, big)} with 1,000+ messages)"
    )
    read: list[float] = result["read_s"]
    print(
        f"  in the thread view, not yet drawn: median {statistics.median(read) * 1000:.1f} ms, "
        f"p95 {p95(read) * 1000:.1f} ms; the pilot's draw step with nothing to do: median "
        f"{statistics.median(result['idle_draw_s']) * 1000:.1f} ms"
    )
    print(f"peak RSS              {peak_mb:.0f} MB (this process, after all of the above)")
    if args.json:
        summary = {
            **result,
            "opens_ms": {
                "median": round(statistics.median(opens) * 1000, 1),
                "p95": round(p95(opens) * 1000, 1),
                "max": round(max(opens) * 1000, 1),
            },
            "read_ms": {
                "median": round(statistics.median(read) * 1000, 1),
                "p95": round(p95(read) * 1000, 1),
            },
            "peak_rss_mib": round(peak_mb),
        }
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument(
        "--db", type=Path, help="a year database made by bench/seed.py (copied, then upgraded)"
    )
    parser.add_argument("--opens", type=int, default=100, help="conversations opened (with --db)")
    parser.add_argument("--heavy", type=int, default=30, help="of them, customers with the most messages")
    parser.add_argument("--page-keys", type=int, default=10, help="page-down keys sent per pilot call")
    parser.add_argument("--seed", type=int, default=1, help="which random customers are opened")
    parser.add_argument("--json", type=Path, help="also write the results to this file (with --db)")
    args = parser.parse_args()
    if args.db:
        year(args)
        return
    with tempfile.TemporaryDirectory(prefix="wa-inbox-tui-bench-") as tmp:
        db = Path(tmp) / "inbox.db"
        seeded = asyncio.run(seed(db, args.conversations))
        query = statistics.median(asyncio.run(list_query(db)) for _ in range(3))
        ready, pages, opens = asyncio.run(drive(db, args.conversations))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"conversations        {args.conversations} (seeded in {seeded:.1f} s through the store)")
    print(f"list query (baseline) {query * 1000:.0f} ms median of 3")
    print(f"app start -> all shown {ready * 1000:.0f} ms ({ready / query:.1f}x the query alone)")
    print(f"page down            {statistics.median(pages) * 1000:.1f} ms median of {len(pages)}")
    print(f"open a conversation  {statistics.median(opens) * 1000:.1f} ms median of {len(opens)}")
    print(f"peak memory          {peak_mb:.0f} MB (whole process)")


if __name__ == "__main__":
    main()
