"""The reads an agent waits for, on PostgreSQL beside SQLite, on the same year of traffic.

    .venv/bin/python bench/postgres_reads.py [--messages 100000] [--customers 2000] [--seed 1]
        [--sqlite /tmp/year-100k.db] [--pg-dir /tmp/wa-pg-year] [--rounds 5] [--inner 5] [--opens 50]
        [--words order,Osaka,12345] [--pg-setting NAME=VALUE ...] [--json out.json]

Both databases hold the same year, made by `bench/seed.py` with the same `--messages`, `--customers`
and `--seed`, every row written through the store (its dates end when each was made). A database that
is missing is made first: the SQLite file at `--sqlite`, the PostgreSQL one in the server this script
starts (the `pgserver` wheel, as the tests do) with its data in `--pg-dir`, which is kept so that the
next run reuses it (seeding takes minutes). Each is measured on a copy (a file copy; a `CREATE
DATABASE … TEMPLATE`), since the change feed's row writes a message.

Rows, each the median of `--rounds` rounds x `--inner` runs after one warm-up call, the two backends
interleaved round by round (SQLite, PostgreSQL, SQLite, ...), each round on a newly opened store:

- `list_conversations(limit=100)`: the first page of the inbox's list;
- `conversation_counts()`: the list's totals;
- `thread_page(limit=50)`: opening a conversation, `--opens` random customers a round (median, p95);
- `search(word, limit=50)` for each of `--words`: by default a word half the messages hold ("order"),
  one 0.7 % hold ("Osaka") and an order number two messages hold ("12345");
- `changes_since` after one new message: an inbound message is ingested, then the feed is read from
  the change number before it (what an attached inbox does when told of a commit); the row fails the
  run if the message is not in what it read.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from postgres_server import Postgres, parse_settings, server

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.models import InboundMessage, Verdict, WebhookKind, WebhookRecord
from wa_inbox.store import Store, open_store

HERE = Path(__file__).resolve().parent
COPY = "reads_copy"


def year_name(args: argparse.Namespace) -> str:
    return f"year_{args.messages}_{args.customers}_{args.seed}"


def seed(out: str, args: argparse.Namespace) -> None:
    """`bench/seed.py` into `out` (a new file or an empty database), in a process of its own."""
    started = time.perf_counter()
    command = [sys.executable, str(HERE / "seed.py"), "--out", out]
    command += [
        "--messages",
        str(args.messages),
        "--customers",
        str(args.customers),
        "--seed",
        str(args.seed),
    ]
    subprocess.run(command, check=True, stdout=sys.stderr)
    print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def has_year(postgres: Postgres, name: str) -> bool:
    if not postgres.admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        return False
    with psycopg.connect(postgres.url(name).conninfo, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('messages')").fetchone() in (None, (None,)):
            return False
        return conn.execute("SELECT 1 FROM messages LIMIT 1").fetchone() is not None


def postgres_year(postgres: Postgres, args: argparse.Namespace) -> DatabaseUrl:
    """The seeded year on this server (seeded now if missing), and a fresh copy of it to measure."""
    name = year_name(args)
    if not has_year(postgres, name):
        print(f"seeding PostgreSQL database {name}", file=sys.stderr)
        seed(postgres.create(name).conninfo, args)
    postgres.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    url = postgres.create(COPY, template=name)
    with psycopg.connect(url.conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum would have by now on a database a year old
    return url


def sqlite_year(path: Path, workdir: Path, args: argparse.Namespace) -> Path:
    """The seeded year file (seeded now if missing), and a copy of it to measure."""
    if not path.exists():
        print(f"seeding SQLite file {path}", file=sys.stderr)
        seed(str(path), args)
    copy = workdir / "year.db"
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            subprocess.run(["cp", "--reflink=auto", f"{path}{suffix}", f"{copy}{suffix}"], check=True)
    return copy


async def timed(runs: int, read: Callable[[], Awaitable[Any]]) -> list[float]:
    await read()  # warm-up, not counted
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await read()
        times.append(time.perf_counter() - started)
    return times


class NewMessages:
    """Inbound messages from one customer, each new, for the change feed's row."""

    def __init__(self, address: str) -> None:
        self.address, self.count = address, 0

    def next(self) -> tuple[InboundMessage, WebhookRecord]:
        self.count += 1
        sid = f"SM{0xFEED << 112 | os.getpid() << 40 | time.time_ns() % 2**40:032x}"
        now = datetime.now(UTC)
        body = f"Is order #{self.count} on its way?"
        message = InboundMessage(sid=sid, from_addr=self.address, to_addr="whatsapp:+14155238886", body=body)
        record = WebhookRecord(WebhookKind.INBOUND, "/twilio/inbound", Verdict.ACCEPTED, body, {}, now)
        return message, record


async def changes_after_one(store: Store, news: NewMessages) -> float:
    """Seconds of `changes_since` right after one new message; fails when the message is not in it."""
    since = await store.change_number()
    message, record = news.next()
    await store.ingest_inbound(message, record)
    started = time.perf_counter()
    changes = await store.changes_since(since)
    elapsed = time.perf_counter() - started
    if message.sid not in {m.sid for m in changes.messages}:
        raise SystemExit(f"changes_since({since}) missed the new message {message.sid}: the feed is wrong")
    return elapsed


async def one_round(
    location: Path | DatabaseUrl, args: argparse.Namespace, number: int
) -> dict[str, list[float]]:
    """Every row once (`--inner` runs each) on a newly opened store."""
    rows: dict[str, list[float]] = {}
    async with open_store(location) as store:
        first = await store.list_conversations(limit=100)
        rows["list_conversations(limit=100)"] = await timed(
            args.inner, functools.partial(store.list_conversations, limit=100)
        )
        rows["conversation_counts()"] = await timed(args.inner, store.conversation_counts)
        everyone = await addresses(store)
        picked = random.Random(args.seed * 1000 + number).sample(everyone, k=min(args.opens, len(everyone)))
        await store.thread_page(picked[0], limit=50)
        rows["thread_page(limit=50)"] = []
        for address in picked:
            started = time.perf_counter()
            await store.thread_page(address, limit=50)
            rows["thread_page(limit=50)"].append(time.perf_counter() - started)
        for word in args.words.split(","):
            rows[f"search({word!r}, limit=50)"] = await timed(
                args.inner, functools.partial(store.search, word, limit=50)
            )
        news = NewMessages(first[-1].contact.address)
        await changes_after_one(store, news)  # warm-up
        rows["changes_since after one new message"] = [
            await changes_after_one(store, news) for _ in range(args.inner)
        ]
    return rows


async def addresses(store: Store) -> list[str]:
    """Every customer's address (the whole list, a page of 1,000 at a time)."""
    found: list[str] = []
    page = await store.list_conversations(limit=1000)
    while page:
        found += [c.contact.address for c in page]
        page = await store.list_conversations(limit=1000, after=page[-1]) if len(page) == 1000 else []
    return found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(
    locations: dict[str, Path | DatabaseUrl], args: argparse.Namespace
) -> dict[str, dict[str, list[float]]]:
    rows: dict[str, dict[str, list[float]]] = {backend: {} for backend in locations}
    for number in range(args.rounds):
        for backend, location in locations.items():
            for label, times in asyncio.run(one_round(location, args, number)).items():
                rows[backend].setdefault(label, []).extend(times)
        print(f"round {number + 1} of {args.rounds} done", file=sys.stderr)
    return rows


def report(
    rows: dict[str, dict[str, list[float]]], args: argparse.Namespace, context: dict[str, Any]
) -> None:
    lite, pg = rows["sqlite"], rows["postgres"]
    print(
        f"{args.messages:,} messages, {args.customers:,} customers (seed {args.seed}); "
        f"{args.rounds} rounds x {args.inner} runs (thread_page: {args.opens} customers a round); "
        f"load average {context['load'][0]:.1f} before, {context['load'][1]:.1f} after, "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"SQLite {context['sqlite_mib']:,.0f} MiB; {context['settings']}; "
        f"database {context['postgres_mib']:,.0f} MiB"
    )
    print(
        f"{'read':<40} {'SQLite':>10} {'PostgreSQL':>11} {'PG/SQLite':>10} {'p95 SQLite':>11} {'p95 PG':>9}"
    )
    for label, times in lite.items():
        a, b = statistics.median(times) * 1000, statistics.median(pg[label]) * 1000
        print(
            f"{label:<40} {a:>7.2f} ms {b:>8.2f} ms {b / a:>9.1f}x "
            f"{p95(times) * 1000:>8.2f} ms {p95(pg[label]) * 1000:>6.2f} ms"
        )
    if args.json:
        result = {
            **context,
            "rows": {
                backend: {
                    label: {"median_ms": statistics.median(t) * 1000, "p95_ms": p95(t) * 1000, "runs": len(t)}
                    for label, t in by.items()
                }
                for backend, by in rows.items()
            },
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1, help="seed.py's random seed (and the opens')")
    parser.add_argument("--sqlite", type=Path, help="the SQLite year (made here when missing)")
    parser.add_argument("--pg-dir", type=Path, help="a short folder for the server's data, kept between runs")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inner", type=int, default=5, help="runs of each read per round")
    parser.add_argument("--opens", type=int, default=50, help="conversations opened per round")
    parser.add_argument(
        "--words",
        default="order,Osaka,12345",
        help="words searched, comma-separated (in the 100k year: 48,714, 717 and 2 messages hold them)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wa-inbox-reads-") as tmp:
        workdir = Path(tmp)
        sqlite_path = args.sqlite or workdir / "seeded.db"
        with server(parse_settings(args.pg_setting), args.pg_dir) as postgres:
            url = postgres_year(postgres, args)
            copy = sqlite_year(sqlite_path, workdir, args)
            load_before = os.getloadavg()[0]
            rows = measure({"sqlite": copy, "postgres": url}, args)
            context = {
                "load": (load_before, os.getloadavg()[0]),
                "settings": postgres.settings(),
                "sqlite_mib": sum(p.stat().st_size for p in (copy, Path(f"{copy}-wal")) if p.exists())
                / 2**20,
                "postgres_mib": postgres.admin(f"SELECT pg_database_size('{COPY}')")[0][0] / 2**20,  # type: ignore[operator]
            }
            postgres.drop(COPY)
        report(rows, args, context)
        if args.sqlite is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
