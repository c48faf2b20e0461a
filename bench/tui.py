"""TUI benchmark: the inbox with 10,000 conversations, headless (Textual's `run_test`).

Measures, on a database of N contacts with one message each: the store's query for the whole list,
the time from app start until the list shows all N, the median time of a page-down keypress and of
opening a conversation, and the process's peak memory. The baseline is the same list query alone,
in the same process.

    .venv/bin/python bench/tui.py [--conversations 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from wa_inbox.config import Settings
from wa_inbox.domain.models import InboundMessage, Verdict, WebhookKind, WebhookRecord
from wa_inbox.running.services import attached
from wa_inbox.store import open_store
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.widgets.conversation_list import ConversationList

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args()
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
