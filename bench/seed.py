"""A year of traffic in one database, written through the store's public write path.

    .venv/bin/python bench/seed.py --out /tmp/year.db [--messages 1000000] [--customers 10000] [--seed 1]
    .venv/bin/python bench/seed.py --out postgresql://USER:PASSWORD@HOST/DATABASE [...]

`--out` is a new SQLite file, or the URL of an empty PostgreSQL database (one that holds no messages).

Every row arrives the way the receiver and the sender would write it: `ingest_inbound` for each
customer message (STOP through its opt-out path), `queue_draft`, `claim_unsent`, `record_accepted` and
`ingest_status` callbacks for each reply, and `mark_read` as the agent reads. Nothing writes SQL past
the `Store` protocol. The store is given a hand-moved clock, set to each event's time just before its
write, so the times it stamps itself (queued, claimed, read) span the year as the webhook times do.

The mix: about half inbound, half outbound; outbound mostly read or delivered, some only sent, a few
failed (63016, 63003) or undelivered (30008, 30005); about 1 % of inbound left unread (the tails of recent
conversations), the rest read by the agent soon after they arrived; 3 % of inbound is an image; a few
dozen customers opted out with STOP (their last message); conversation lengths are log-normal, so most
customers have tens of messages and a few have thousands. The run is deterministic for a given
`--seed`.

Writes go in concurrently (a chunk of events at a time, `asyncio.gather`), so SQLite's writer commits
up to 256 of them per transaction; PostgreSQL commits each write on its own (its pool's connections at
once), so its chunk is smaller by default: a write waits at most 30 s for a connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from wa_inbox.dburl import DatabaseUrl, scheme_of
from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import InboundMessage, MediaRef, StatusUpdate, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store import Store, open_store

T = TypeVar("T")

BUSINESS = "whatsapp:+14155238886"
ACCOUNT = "AC" + "5e" * 16
SERVICE = "MG" + "a1" * 16
YEAR = 365 * 24 * 3600.0
STOP_CONFIRMATION = (
    "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."
)

# Kinds of event on the timeline.
IN, OUT, STOP, TAIL = 0, 1, 2, 3
"""A customer's message, our reply, a customer's STOP, and a customer's message left unread."""

FIRST: tuple[str, ...] = (
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elif",
    "Farah",
    "Gustavo",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Lena",
)
FIRST += ("Marco", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Vikram", "Wen")
FIRST += ("Ximena", "Yusuf", "Zoë", "Aisha", "Bruno", "Chloé", "Diego", "Emma", "Felipe", "Giulia", "Hugo")
LAST: tuple[str, ...] = (
    "Silva",
    "Carter",
    "Dubois",
    "Patel",
    "Yılmaz",
    "Haddad",
    "Rocha",
    "Sato",
    "Petrov",
    "Costa",
)
LAST += ("Tanaka", "Müller", "Rossi", "Karimi", "Singh", "Nguyen", "García", "Lopez", "Kowalski", "Ahmed")
LAST += ("Okafor", "Schmidt", "Moreau", "Ferreira", "Novak", "Jensen", "Ortiz")

ASKS = (
    "Hi, where is my order #{n}?",
    "My order #{n} has not arrived yet",
    "Can I change the delivery address for order #{n}?",
    "Is the blue one back in stock?",
    "Do you ship to {city}?",
    "I want to return order #{n}, it is the wrong size",
    "Thanks, that helps!",
    "Oi, meu pedido #{n} não chegou",
    "Hola, ¿cuándo llega mi pedido #{n}?",
    "The tracking link for order #{n} does not work",
    "Can I pay on delivery?",
    "What are your opening hours on Sunday?",
    "Ok",
    "👍",
    "Perfect, thank you",
    "I was charged twice for order #{n}",
    "Can I add one more item to my order?",
    "Is there a discount code for the next order?",
)
REPLIES = (
    "Hi! Let me check order #{n} for you.",
    "Your order #{n} left our warehouse today and should arrive in 2-3 days.",
    "Sure, I have updated the delivery address for order #{n}.",
    "Yes, it is back in stock: shall I reserve one for you?",
    "We ship to {city} within 5 working days.",
    "I have started the return for order #{n}; the courier will call you.",
    "You're welcome! Anything else?",
    "Olá! Vou verificar o pedido #{n} agora.",
    "¡Hola! Tu pedido #{n} llega mañana.",
    "Here is a new tracking link for order #{n}: https://track.example.com/{n}",
    "We open at 10:00 on Sundays.",
    "Sorry about the double charge on order #{n}: the refund is on its way.",
    "Use code THANKS10 for 10% off your next order.",
)
CITIES = ("Lisbon", "São Paulo", "Madrid", "Berlin", "Lagos", "Mumbai", "Austin", "Istanbul", "Osaka")

OUTCOMES = (  # (weight, status callbacks in order, error code of the last)
    (55.0, ("sent", "delivered", "read"), None),
    (33.0, ("sent", "delivered"), None),
    (7.0, ("sent",), None),
    (1.6, ("failed",), 63016),
    (0.4, ("failed",), 63003),
    (0.8, ("sent", "undelivered"), 30008),
    (0.2, ("sent", "undelivered"), 30005),
)


class Clock:
    """The store's "now", moved by the seeder to each event's time just before the write it stamps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(slots=True)
class Customer:
    address: str
    name: str
    wa_id: str


@dataclass(slots=True)
class Tally:
    writes: int = 0
    inbound: int = 0
    outbound: int = 0
    statuses: int = 0
    reads: int = 0
    media: int = 0
    stops: int = 0
    tails: int = 0


def plan(customers: int, messages: int, rng: random.Random) -> tuple[list[tuple[float, int, int]], list[int]]:
    """The year's timeline: (seconds into the year, customer, kind), oldest first; and each customer's
    message count. Conversations come in sessions of a few messages minutes apart; a session opens
    with the customer writing."""
    weights = [rng.lognormvariate(0.0, 1.25) for _ in range(customers)]
    scale = (messages - customers) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for _ in range(messages - sum(counts)):  # what rounding down left over
        counts[rng.randrange(customers)] += 1
    events: list[tuple[float, int, int]] = []
    for c, count in enumerate(counts):
        first = rng.random() ** 1.5 * YEAR * 0.97  # more customers from the first months, still arriving
        sessions = max(1, round(count / 6))
        starts = sorted(rng.uniform(first, YEAR - 600) for _ in range(sessions))
        left = count
        for s, start in enumerate(starts):
            size = left if s == sessions - 1 else max(1, min(left - (sessions - s - 1), rng.randint(1, 11)))
            left -= size
            at = start
            for m in range(size):
                kind = IN if m == 0 or rng.random() < 0.4 else OUT
                events.append((at, c, kind))
                at += rng.uniform(20, 600)
            if left <= 0:
                break
    events.sort()
    return events, counts


def mark_tails_and_stops(
    events: list[tuple[float, int, int]], customers: int, stops: int, rng: random.Random
) -> None:
    """Opt `stops` customers out with a STOP as their last message, and leave the last few messages of
    recent conversations unread (as inbound), to about 1 % of all inbound."""
    last: dict[int, int] = {}
    for i, (_, c, _) in enumerate(events):
        last[c] = i
    inbound = sum(1 for e in events if e[2] == IN)
    order = sorted(last, key=lambda c: -events[last[c]][0])  # most recent conversation first
    stoppers = set(rng.sample(order[len(order) // 10 :], k=min(stops, len(order) // 2)))
    for c in stoppers:
        at, _, _ = events[last[c]]
        events[last[c]] = (at, c, STOP)
    by_customer: dict[int, list[int]] = {}
    recent = [c for c in order[: max(1, len(order) // 3)] if c not in stoppers]
    rng.shuffle(recent)
    wanted, tails = max(1, inbound // 100), 0
    chosen = recent[: wanted * 2]
    wanted_customers = set(chosen)
    for i, (_, c, _) in enumerate(events):
        if c in wanted_customers:
            by_customer.setdefault(c, []).append(i)
    for c in chosen:
        if tails >= wanted:
            break
        mine = by_customer[c]
        k = min(len(mine), rng.choice((1, 1, 1, 2, 2, 3, 4, 6)))
        for i in mine[-k:]:
            at, _, _ = events[i]
            events[i] = (at, c, TAIL)
        tails += k


def make_customers(count: int, rng: random.Random) -> list[Customer]:
    prefixes = ("1415", "1212", "5511", "3461", "4915", "4477", "2348", "9198", "3361", "9053")
    people = []
    for n in range(count):
        number = f"{prefixes[n % len(prefixes)]}{5_000_000 + n:08d}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        people.append(Customer(f"whatsapp:+{number}", name, number))
    return people


def text(templates: tuple[str, ...], rng: random.Random) -> str:
    return rng.choice(templates).format(n=rng.randint(10_000, 99_999), city=rng.choice(CITIES))


class Seeder:
    def __init__(self, store: Store, clock: Clock, start: datetime, rng: random.Random) -> None:
        self.store, self.clock, self.start, self.rng = store, clock, start, rng
        self.end = start + timedelta(seconds=YEAR)
        self.tally = Tally()
        self._sids = 0
        self._keys = 0

    def at(self, seconds: float) -> datetime:
        return min(self.start + timedelta(seconds=seconds), self.end)

    def stamped(self, when: datetime, write: Callable[[], Awaitable[T]]) -> Coroutine[Any, Any, T]:
        """`write()` with the store's clock at `when`: the store reads its clock synchronously when the
        write starts, before its first await, so each write of a gather gets its own time."""

        async def run() -> T:
            self.clock.now = when
            self.tally.writes += 1
            return await write()

        return run()

    def sid(self, outbound: bool) -> str:
        self._sids += 1
        return f"SM{(1 << 127 if outbound else 0) | self._sids:032x}"

    def inbound(self, who: Customer, when: datetime, kind: int) -> Coroutine[Any, Any, bool]:
        rng = self.rng
        sid = self.sid(False)
        media: tuple[MediaRef, ...] = ()
        body = "STOP" if kind == STOP else text(ASKS, rng)
        if kind != STOP and rng.random() < 0.03:
            url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media/ME{sid[2:]}"
            media = (MediaRef(0, url, "image/jpeg"),)
            body = "" if rng.random() < 0.6 else body
            self.tally.media += 1
        form = {
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "ProfileName": who.name,
            "MessageType": "image" if media else "text",
            "SmsSid": sid,
            "WaId": who.wa_id,
            "SmsStatus": "received",
            "Body": body,
            "To": BUSINESS,
            "MessagingServiceSid": SERVICE,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT,
            "From": who.address,
            "ApiVersion": "2010-04-01",
        }
        if media:
            form |= {"MediaContentType0": media[0].content_type, "MediaUrl0": media[0].url}
        message = InboundMessage(
            sid,
            who.address,
            BUSINESS,
            body,
            account_sid=ACCOUNT,
            messaging_service_sid=SERVICE,
            profile_name=who.name,
            wa_id=who.wa_id,
            message_type="image" if media else "text",
            media=media,
        )
        record = WebhookRecord(
            WebhookKind.INBOUND, "/twilio/inbound", Verdict.ACCEPTED, urlencode(form), {}, when, None, sid
        )
        self.tally.inbound += 1
        if kind == STOP:
            self.tally.stops += 1
            return self.stamped(
                when,
                lambda: self.store.ingest_inbound(message, record, OptAction.STOP, STOP_CONFIRMATION),
            )
        return self.stamped(when, lambda: self.store.ingest_inbound(message, record))

    def draft(self, who: Customer, when: datetime) -> Coroutine[Any, Any, int | None]:
        self._keys += 1
        key = f"seed-{self._keys}"
        draft = Draft(who.address, text(REPLIES, self.rng))
        self.tally.outbound += 1
        return self.stamped(when, lambda: self.store.queue_draft(draft, key))

    def read(self, who: Customer, last_inbound: datetime) -> Coroutine[Any, Any, int]:
        """The agent opens the conversation a little after its latest message."""
        self.tally.reads += 1
        when = min(last_inbound + timedelta(seconds=self.rng.uniform(10, 900)), self.end)
        return self.stamped(when, lambda: self.store.mark_read(who.address))

    def callbacks(self, to: str, created: datetime, message_id: int, sid: str) -> tuple[Any, list[Any]]:
        """record_accepted, then the status callbacks Twilio would send for one of our messages."""
        rng = self.rng
        accepted = self.stamped(
            min(created + timedelta(seconds=rng.uniform(0.2, 1.5)), self.end),
            lambda: self.store.record_accepted(message_id, sid, "queued", BUSINESS, SERVICE),
        )
        _, chain, error = rng.choices(OUTCOMES, weights=[w for w, _, _ in OUTCOMES])[0]
        updates = []
        moment = created + timedelta(seconds=rng.uniform(1, 4))
        for step, status in enumerate(chain):
            if status == "delivered":
                moment += timedelta(seconds=rng.uniform(1, 20))
            elif status == "read":
                moment += timedelta(seconds=rng.expovariate(1 / 1800))
            elif step:
                moment += timedelta(seconds=rng.uniform(5, 120))
            moment = min(moment, self.end)
            code = error if step == len(chain) - 1 else None
            info = describe(code)
            update = StatusUpdate(sid, status, code, info.meaning if info else None, BUSINESS, to, SERVICE)
            form = {
                "SmsSid": sid,
                "SmsStatus": status,
                "MessageStatus": status,
                "ChannelToAddress": to.removeprefix("whatsapp:"),
                "To": to,
                "ChannelPrefix": "whatsapp",
                "MessageSid": sid,
                "AccountSid": ACCOUNT,
                "From": BUSINESS,
                "ApiVersion": "2010-04-01",
            }
            if code is not None:
                form |= {"ErrorCode": str(code)}
            record = WebhookRecord(
                WebhookKind.STATUS, "/twilio/status", Verdict.ACCEPTED, urlencode(form), {}, moment, None, sid
            )
            updates.append((update, record))
            self.tally.statuses += 1
        return accepted, updates


async def seed(out: Path | DatabaseUrl, messages: int, customers: int, seed_value: int, chunk: int) -> Tally:
    rng = random.Random(seed_value)
    started = time.perf_counter()
    events, counts = plan(customers, messages, rng)
    stops = max(3, min(60, customers // 250))
    mark_tails_and_stops(events, customers, stops, rng)
    people = make_customers(customers, rng)
    planned = time.perf_counter() - started
    heaviest = sorted(counts, reverse=True)
    print(
        f"planned {len(events):,} messages for {customers:,} customers in {planned:.1f} s "
        f"(per customer: median {heaviest[len(heaviest) // 2]}, max {heaviest[0]:,}, "
        f"{sum(1 for n in counts if n >= 1000)} with 1,000 or more)",
        file=sys.stderr,
    )
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    start = end - timedelta(seconds=YEAR)
    clock = Clock(start)
    store = await open_store(out, clock=clock)
    seeder = Seeder(store, clock, start, rng)
    background: set[asyncio.Task[None]] = set()
    in_flight = asyncio.Semaphore(3)
    write_started = time.perf_counter()
    next_report = 0.05
    try:
        for offset in range(0, len(events), chunk):
            part = events[offset : offset + chunk]
            await seeder_chunk(seeder, people, part, background, in_flight)
            done = (offset + len(part)) / len(events)
            if done >= next_report:
                elapsed = time.perf_counter() - write_started
                tally = seeder.tally
                print(
                    f"{done:4.0%}  {offset + len(part):>10,} messages  {elapsed:6.1f} s  "
                    f"{(offset + len(part)) / elapsed:7.0f} messages/s  "
                    f"{tally.writes / elapsed:7.0f} writes/s",
                    file=sys.stderr,
                )
                next_report = math.floor(done * 20 + 1) / 20
        await asyncio.gather(*background)
    finally:
        await store.close()
    elapsed = time.perf_counter() - write_started
    tally = seeder.tally
    print(
        f"wrote {len(events):,} messages ({tally.writes:,} store writes) in {elapsed:.1f} s: "
        f"{len(events) / elapsed:,.0f} messages/s, {tally.writes / elapsed:,.0f} writes/s",
        file=sys.stderr,
    )
    return tally


async def seeder_chunk(
    seeder: Seeder,
    people: list[Customer],
    part: list[tuple[float, int, int]],
    background: set[asyncio.Task[None]],
    in_flight: asyncio.Semaphore,
) -> None:
    """One chunk of the timeline: its messages in time order (ids follow time), then the agent reading
    what arrived, the claim of our replies, the messages left unread; Twilio's callbacks go on in the
    background while the next chunk is written."""
    first: list[Coroutine[Any, Any, Any]] = []
    tails: list[Coroutine[Any, Any, Any]] = []
    read_at: dict[int, datetime] = {}
    drafts: list[tuple[Customer, datetime]] = []
    for seconds, c, kind in part:
        when = seeder.at(seconds)
        who = people[c]
        if kind == OUT:
            first.append(seeder.draft(who, when))
            drafts.append((who, when))
        elif kind == TAIL:
            tails.append(seeder.inbound(who, when, kind))
            seeder.tally.tails += 1
        else:
            first.append(seeder.inbound(who, when, kind))
            read_at[c] = when
    await asyncio.gather(*first)
    reads = [seeder.read(people[c], when) for c, when in read_at.items()]
    last = seeder.at(part[-1][0])
    claim = seeder.stamped(last, lambda: seeder.store.claim_unsent(len(part) + 100))
    results = await asyncio.gather(*reads, claim, *tails)
    jobs = results[len(reads)]
    planned: dict[str, list[datetime]] = {}
    for who, when in drafts:
        planned.setdefault(who.address, []).append(when)
    await in_flight.acquire()
    task = asyncio.create_task(callbacks(seeder, jobs, planned, in_flight))
    background.add(task)
    task.add_done_callback(background.discard)


async def callbacks(
    seeder: Seeder, jobs: list[Any], planned: dict[str, list[datetime]], in_flight: asyncio.Semaphore
) -> None:
    """Twilio accepts each claimed message, then calls back with its statuses."""
    try:
        accepted, updates = [], []
        for job in jobs:
            whens = planned.get(job.address)
            created = whens.pop(0) if whens else job.created_at  # a STOP's confirmation has no plan
            write, chain = seeder.callbacks(job.address, created, job.id, seeder.sid(True))
            accepted.append(write)
            updates.extend(chain)
        await asyncio.gather(*accepted)
        await asyncio.gather(*(seeder.store.ingest_status(update, record) for update, record in updates))
        seeder.tally.writes += len(updates)
    finally:
        in_flight.release()


SQLITE_CHUNK, POSTGRES_CHUNK = 2000, 300
"""Timeline events written concurrently by default (`--chunk`), per backend."""

UNREAD = "SELECT COUNT(*) FROM messages WHERE direction = 'in' AND read_by_agent_at IS NULL"
STATUS_MIX = "SELECT status, COUNT(*) FROM messages WHERE direction = 'out' GROUP BY status ORDER BY 2 DESC"
OPTED = "SELECT COUNT(*) FROM contacts WHERE opted_out"
SPAN = "SELECT MIN(created_at), MAX(created_at) FROM messages"


def report(out: Path | DatabaseUrl, tally: Tally) -> None:
    """Rows per table (read-only), the mix, and the database's size."""
    if isinstance(out, DatabaseUrl):
        report_postgres(out, tally)
        return
    with contextlib.closing(sqlite3.connect(f"{out.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE '%fts_%' ORDER BY name"
            )
        ]
        for table in tables:
            (rows,) = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
            print(f"  {table:<24} {rows:>12,}")
        (unread,) = conn.execute(UNREAD).fetchone()
        statuses = conn.execute(STATUS_MIX).fetchall()
        (opted,) = conn.execute(OPTED).fetchone()
        first, last = conn.execute(SPAN).fetchone()
    size = sum(p.stat().st_size for p in (out, Path(f"{out}-wal")) if p.exists())
    mix(tally, unread, statuses, opted, (first, last))
    print(f"  file {out}: {size / 2**20:,.0f} MiB")


def report_postgres(url: DatabaseUrl, tally: Tally) -> None:
    """As `report`, through psycopg; the size is the database's (`pg_database_size`)."""
    import psycopg

    def one(conn: psycopg.Connection[Any], sql: str) -> Any:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row

    with psycopg.connect(url.conninfo, autocommit=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            (rows,) = one(conn, f'SELECT COUNT(*) FROM "{table}"')
            print(f"  {table:<24} {rows:>12,}")
        (unread,) = one(conn, UNREAD)
        statuses = conn.execute(STATUS_MIX).fetchall()
        (opted,) = one(conn, OPTED)
        span = one(conn, SPAN)
        (size,) = one(conn, "SELECT pg_database_size(current_database())")
    mix(tally, unread, statuses, opted, span)
    print(f"  database {url}: {size / 2**20:,.0f} MiB")


def mix(tally: Tally, unread: int, statuses: list[Any], opted: int, span: tuple[Any, Any]) -> None:
    print(
        f"  inbound {tally.inbound:,}, outbound {tally.outbound:,} (+ STOP confirmations), unread {unread:,}"
    )
    print("  outbound by status: " + ", ".join(f"{status} {count:,}" for status, count in statuses))
    print(f"  opted out {opted}, inbound with an image {tally.media:,}, messages from {span[0]} to {span[1]}")


def holds_messages(url: DatabaseUrl) -> bool:
    """Whether the PostgreSQL database has messages already (a missing table: it is new)."""
    import psycopg

    with psycopg.connect(url.conninfo, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('messages')").fetchone() in (None, (None,)):
            return False
        return conn.execute("SELECT 1 FROM messages LIMIT 1").fetchone() is not None


def destination(text: str) -> Path | DatabaseUrl:
    return DatabaseUrl(text) if scheme_of(text) else Path(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument(
        "--out",
        type=destination,
        required=True,
        help="the database file to make (must not exist), or an empty PostgreSQL database's URL",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed makes the same year")
    parser.add_argument(
        "--chunk",
        type=int,
        help=f"timeline events written concurrently ({SQLITE_CHUNK}; {POSTGRES_CHUNK} on PostgreSQL)",
    )
    args = parser.parse_args()
    if args.customers < 1 or args.messages < args.customers:
        parser.error("--messages must be at least --customers, and both positive")
    postgres = isinstance(args.out, DatabaseUrl)
    if postgres and holds_messages(args.out):
        parser.error(f"{args.out} holds messages: give an empty database (the seeder only fills new ones)")
    if not postgres and args.out.exists():
        parser.error(f"{args.out} exists: remove it first (the seeder only makes new databases)")
    chunk = args.chunk or (POSTGRES_CHUNK if postgres else SQLITE_CHUNK)
    tally = asyncio.run(seed(args.out, args.messages, args.customers, args.seed, chunk))
    report(args.out, tally)


if __name__ == "__main__":
    main()
