"""Ingest benchmark: how many signed status callbacks a second the real receiver stores durably.

Runs wrk against three servers with identical uvicorn settings (httptools, uvloop, one process, no
access log), each in its own subprocess, on the same pre-signed bodies:
  (a) bare Starlette: read the body, 204 (the ceiling);
  (b) the handler Twilio's docs show: `await request.form()` + `RequestValidator.validate`, no storage;
  (c) wa-inbox's receiver: signature checked, every callback a new (MessageSid, MessageStatus) committed
      with synchronous=FULL, one INFO log line per request to a file. As in production, the callbacks
      are about messages the outbox sent: the database starts with them (queued, claimed, accepted).
Usage: .venv/bin/python bench/ingest.py [--duration 10] [--connections 64]

With `--prefill PATH` (a year database made by `bench/seed.py`, never written: it is copied and the
copy upgraded), a fourth server runs in every round: (d) the receiver again, on a database that holds
that year as well as the sent messages; the summary gives (d)/(c), the cost of size.

With `--postgres`, another server runs in every round: (e) the same receiver on PostgreSQL 16, a server
this script starts (the `pgserver` wheel, as the tests do), each round on a fresh database holding the
same sent messages (a copy of one seeded through the store); the summary gives (e)/(c), PostgreSQL
against SQLite. `--pg-variant pool=20,commit_delay=100` (repeatable) runs one (e) server per variant in
every round instead, each with its own pool size (`pool`, else the store's POOL_SIZE) and server
settings (any other NAME=VALUE, set before that server starts; fsync and synchronous_commit stay on).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.domain.policy import Draft
from wa_inbox.store import open_store

HERE = Path(__file__).resolve().parent
PATH = "/twilio/status"  # the receiver's default status path; the baseline apps use it too
STATUSES = (("sent", None), ("delivered", "DELIVERED"), ("read", "READ"))
CUSTOMERS = 10_000
BUSINESS = "whatsapp:+14155238886"
GUESSED_RATE = 15_000  # requests/s: bodies = rate x duration, so that (c) never repeats one

LUA = r"""
local threads, count = {}, 0
function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  local nthreads = tonumber(args[2])
  reqs, n, sent, wraps = {}, 0, 0, 0
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local sig, body = line:match("^(%S+)\t(.*)$")
      local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sig}
      reqs[#reqs + 1] = wrk.format("POST", nil, headers, body)
    end
    i = i + 1
  end
end
function request()
  n = n + 1
  if n > #reqs then n, wraps = 1, wraps + 1 end
  sent = sent + 1
  return reqs[n]
end
function done(summary, latency, requests)
  local s, w = 0, 0
  for _, t in ipairs(threads) do s, w = s + t:get("sent"), w + t:get("wraps") end
  io.write(string.format("bench: sent=%d wraps=%d\n", s, w))
end
"""


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    sent: int
    wraps: int

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx


def message_sid(message: int) -> str:
    """Apart from the SIDs `bench/seed.py` writes (a counter, with the top bit for outbound ones)."""
    return f"SM{0xBE << 120 | message:032x}"


def customer(message: int) -> str:
    return f"+551198{message % CUSTOMERS:07d}"


def status_callback(index: int, token_suffix: str) -> dict[str, str]:
    """The parameters of a WhatsApp status callback (twilio-reference.md §2.2/§2.3), ~500 bytes encoded."""
    message, (status, event) = index // 3, STATUSES[index % 3]
    sid = message_sid(message)
    number = customer(message)
    params = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "ChannelToAddress": number,
        "To": f"whatsapp:{number}",
        "ChannelPrefix": "whatsapp",
        "MessageSid": sid,
        "AccountSid": f"AC{token_suffix}",
        "From": BUSINESS,
        "ApiVersion": "2010-04-01",
        "ChannelInstallSid": f"XE{token_suffix}",
        "MessagingServiceSid": f"MG{token_suffix}",
    }
    if event:
        params["EventType"] = event
    return params


def write_bodies(path: Path, url: str, token: str, count: int) -> tuple[int, str, str]:
    """`signature<TAB>body` lines, each a distinct signed callback.

    Returns the mean body size and one more signed callback (signature, body) that is not in the file.
    """
    validator, suffix, total = RequestValidator(token), secrets.token_hex(16), 0
    with path.open("w") as file:
        for index in range(count + 1):
            params = status_callback(index, suffix)
            body, signature = urlencode(params), validator.compute_signature(url, params)
            if index == count:
                return total // count, signature, body
            total += len(body)
            file.write(f"{signature}\t{body}\n")
    raise AssertionError("unreachable")


SEED_CHUNK = 1000
"""Writes the seeding has in flight at once: enough for SQLite's writer to fill its batches, few enough
that none waits past the PostgreSQL pool's 30 s for a connection."""


async def seed_sent_messages(db: Path | DatabaseUrl, count: int) -> None:
    """The `count` messages the callbacks are about, through the store as the outbox sends them."""
    store = await open_store(db)
    try:
        body = "Seu pedido saiu para entrega."
        ids: list[int | None] = []
        for start in range(0, count, SEED_CHUNK):
            drafts = [
                store.queue_draft(Draft(address=f"whatsapp:{customer(m)}", body=body), f"ingest-bench-{m}")
                for m in range(start, min(count, start + SEED_CHUNK))
            ]
            ids += await asyncio.gather(*drafts)
        while await store.claim_unsent(1000):
            pass
        accepted = [
            store.record_accepted(id_, message_sid(m), "queued", BUSINESS, None)
            for m, id_ in enumerate(ids)
            if id_ is not None
        ]
        for start in range(0, len(accepted), SEED_CHUNK):
            await asyncio.gather(*accepted[start : start + SEED_CHUNK])
    finally:
        await store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(kind: str, port: int, env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    log = (workdir / f"{kind}.stderr").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "baseline_apps.py"), kind, str(port)],
        cwd=workdir,  # so that no .env of the caller's is read
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"the {kind} server exited at start-up:\n{(workdir / f'{kind}.stderr').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    fail(f"the {kind} server did not listen on port {port} within 30 s")
    raise AssertionError  # unreachable


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # graceful: in-flight requests finish, the store drains and closes
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("a server did not stop within 60 s of SIGINT")


def preflight(port: int, signature: str, body: str, label: str) -> None:
    """One signed request before the run, so a wrong setup fails in a second with its reason."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    conn.request("POST", PATH, body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 204:
        fail(f"{label}: the preflight request got {response.status}: {response.read()[:300]!r}")
    conn.close()


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(label: str, out: str) -> Result:
    def number(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, out, re.MULTILINE)
        if match is None:
            if default is None:
                fail(f"{label}: cannot find {pattern!r} in wrk's output:\n{out}")
            return default  # type: ignore[return-value]
        return match.group(1)

    percentiles = {
        p: float(v) * _UNITS_MS[unit]
        for p, v, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    }
    if "50" not in percentiles or "99" not in percentiles:
        fail(f"{label}: no latency distribution in wrk's output:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        label=label,
        rps=float(number(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(number(r"^\s*(\d+) requests in")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        sent=int(number(r"^bench: sent=(\d+)")) - 1,  # wrk calls request() once to check the script
        wraps=int(number(r"^bench: sent=\d+ wraps=(\d+)")),
    )


def run_wrk(label: str, port: int, args: argparse.Namespace, script: Path, bodies: Path) -> Result:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{PATH}",
        "--",
        str(bodies),
        str(args.threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"{label}: wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return parse_wrk(label, done.stdout)


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr)
    raise SystemExit(1)


SERVERS = (
    ("bare", "(a) bare Starlette, 204"),
    ("reference", "(b) Twilio docs handler"),
    ("receiver", "(c) wa-inbox receiver"),
)


def run_one(
    kind: str,
    label: str,
    port: int,
    env: dict[str, str],
    workdir: Path,
    args: argparse.Namespace,
    script: Path,
    bodies: Path,
    pre_signature: str,
    pre_body: str,
) -> Result:
    proc = start_server(kind, port, env, workdir)
    try:
        preflight(port, pre_signature, pre_body, label)
        result = run_wrk(label, port, args, script, bodies)
    finally:
        stop_server(proc)
    print(
        f"{label:<26} {result.rps:>10.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
        f"p99 {result.p99_ms:6.2f} ms  non-2xx {result.non_2xx}  "
        f"socket errors {result.socket_errors}  ({result.requests} requests)",
        flush=True,
    )
    if result.wraps:
        harm = "duplicates!" if kind == "receiver" else "harmless: nothing is stored"
        print(f"    note: wrk went through the bodies again {result.wraps} time(s) ({harm})")
    return result


COUNTS = (
    "SELECT count(*) FROM status_events",
    "SELECT count(*) FROM messages WHERE idempotency_key IS NULL",
)
"""Status events, and messages without an idempotency key (inbound ones, and placeholders)."""


def counts(db: Path | DatabaseUrl) -> tuple[int, int]:
    """The `COUNTS`, read past the store (SQLite's file, or PostgreSQL through psycopg)."""
    if isinstance(db, DatabaseUrl):
        import psycopg

        with psycopg.connect(db.conninfo) as pg:
            events, keyless = ((pg.execute(sql).fetchone() or (0,))[0] for sql in COUNTS)
    else:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            events, keyless = (conn.execute(sql).fetchone()[0] for sql in COUNTS)
    return int(events), int(keyless)


def check_round(
    results: list[Result], c: Result, db: Path | DatabaseUrl, before: tuple[int, int]
) -> list[str]:
    """Every answer 2xx, and every 2xx of receiver `c` stored exactly once in its round's database,
    which held `before` (status events, keyless messages) when the round began."""
    problems = [f"{r.label}: {r.non_2xx} non-2xx responses" for r in results if r.non_2xx]
    problems += [f"{r.label}: {r.socket_errors} socket errors" for r in results if r.socket_errors]
    if c.wraps:
        problems.append(
            f"{c.label} repeated bodies, so some requests took the duplicate path: raise the count"
        )
    rows, keyless = counts(db)
    unknown = keyless - before[1]
    if unknown:  # every callback, the preflight's too, is about a seeded message
        problems.append(f"{c.label} made {unknown} placeholder rows: the seeded messages miss the callbacks")
    stored = rows - before[0] - 1  # the preflight's row
    if c.ok <= stored <= c.sent:  # requests in flight at wrk's deadline are stored but not counted
        print(f"    database: ok, {stored} stored for {c.ok} 2xx counted by wrk (+{stored - c.ok} in flight)")
        return problems
    return [*problems, f"database MISMATCH for {c.label}: {stored} stored, wrk counted {c.ok} 2xx"]


def median_result(results: list[Result]) -> Result:
    """The round with the median throughput stands for the server (its latencies come with it)."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


PREFILLED = "(d) receiver, year database"


def prefilled(year: Path, target: Path, count: int) -> Path:
    """A copy of the year database at `target`, upgraded, with the `count` sent messages added."""
    from wa_inbox.store import upgrade_in_place

    started = time.monotonic()
    subprocess.run(["cp", "--reflink=auto", str(year), str(target)], check=True)
    upgrade_in_place(target, print)
    asyncio.run(seed_sent_messages(target, count))
    took = time.monotonic() - started
    print(f"(d)'s database: {year} copied, upgraded and given the sent messages in {took:.1f} s")
    return target


POSTGRES = "(e) receiver on PostgreSQL"


def pg_servers(variants: list[str]) -> list[tuple[str, str]]:
    """The (e) servers: `postgres:SPEC` kinds, labelled (e) alone or (e1), (e2), ... with their spec."""
    if not variants:
        return [("postgres:", POSTGRES)]
    return [(f"postgres:{spec}", f"(e{n}) PG {spec}") for n, spec in enumerate(variants, 1)]


REPLICAS = "pg-replicas:"
"""The kind of an (e) run with several receivers: `pg-replicas:N`."""


def split_bodies(bodies: Path, count: int) -> list[Path]:
    """The bodies dealt into `count` files, one per replica: distinct callbacks on each, as a load
    balancer spreads Twilio's requests."""
    lines = bodies.read_text().splitlines(keepends=True)
    parts = [bodies.with_name(f"bodies-{n}.tsv") for n in range(count)]
    for n, part in enumerate(parts):
        part.write_text("".join(lines[n::count]))
    return parts


def run_replicas(
    label: str,
    port: int,
    count: int,
    env: dict[str, str],
    workdir: Path,
    args: argparse.Namespace,
    script: Path,
    parts: list[Path],
    pre_signature: str,
    pre_body: str,
) -> Result:
    """`count` receivers on one database (each its own process and pool, as on separate hosts), with
    the load split between them: one wrk each, with its share of the connections and of the bodies,
    all at once. Requests per second add up; the latencies are the slowest replica's."""
    ports = [port, *(free_port() for _ in range(count - 1))]
    procs = [start_server("receiver", p, env, workdir) for p in ports]
    try:
        preflight(port, pre_signature, pre_body, label)
        share = argparse.Namespace(
            **{**vars(args), "connections": max(1, args.connections // count), "threads": 1}
        )
        with ThreadPoolExecutor(count) as pool:
            found = list(pool.map(lambda n: run_wrk(label, ports[n], share, script, parts[n]), range(count)))
    finally:
        for proc in procs:
            stop_server(proc)
    result = Result(
        label=label,
        rps=sum(r.rps for r in found),
        p50_ms=max(r.p50_ms for r in found),
        p99_ms=max(r.p99_ms for r in found),
        requests=sum(r.requests for r in found),
        non_2xx=sum(r.non_2xx for r in found),
        socket_errors=sum(r.socket_errors for r in found),
        sent=sum(r.sent for r in found),
        wraps=sum(r.wraps for r in found),
    )
    print(
        f"{label:<26} {result.rps:>10.1f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
        f"non-2xx {result.non_2xx}  socket errors {result.socket_errors}  ({result.requests} requests)",
        flush=True,
    )
    return result


NOTIFY_TRIGGERS = ("contacts", "messages", "conversations", "thread_events")
"""The tables whose `<table>_notify` trigger wakes the change feed's listeners (store/postgres/schema.py)."""


def configure_variant(postgres: Any, kind: str, db: DatabaseUrl) -> str | None:
    """Apply a variant's server settings (and only those) and, for `notify=off`, take the change feed's
    NOTIFY out of the round's copy (an experiment: what commits cost without it; the feed's listeners
    would then hear nothing); return its pool size, if it sets one."""
    from postgres_server import apply, parse_settings

    settings = parse_settings([pair for pair in kind.split(":", 1)[1].split(",") if pair])
    pool = settings.pop("pool", None)
    if settings.pop("notify", "on") == "off":
        import psycopg

        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            for table in NOTIFY_TRIGGERS:
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_notify")
    apply(postgres, settings)
    return pool


SENT_TEMPLATE = "ingest_sent"
"""The PostgreSQL database seeded once with the sent messages; each round's database is a copy."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server (10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (a), (b), (c) (3)")
    parser.add_argument("--prefill", type=Path, help="also (d): the receiver on a copy of this year database")
    parser.add_argument("--postgres", action="store_true", help="also (e): the receiver on PostgreSQL")
    parser.add_argument(
        "--pg-variant",
        action="append",
        default=[],
        metavar="pool=N,NAME=VALUE,...",
        help="an (e) server with this pool size and these server settings (repeatable)",
    )
    parser.add_argument(
        "--pg-replicas",
        type=int,
        default=1,
        metavar="N",
        help="also (e) with 2..N receivers on the one PostgreSQL database, the load split between them",
    )
    args = parser.parse_args()
    if args.pg_replicas > 1 and not args.postgres:
        parser.error("--pg-replicas needs --postgres")
    if args.prefill and not args.prefill.exists():
        parser.error(f"{args.prefill} does not exist: make it with bench/seed.py")
    if args.pg_variant and not args.postgres:
        parser.error("--pg-variant needs --postgres")
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `apt-get install wrk` (Debian/Ubuntu).")
        raise SystemExit(2)
    try:
        import python_multipart  # noqa: F401  (Starlette's request.form(), used by (b), needs it)
    except ImportError:
        print("python-multipart is not installed: run `.venv/bin/pip install python-multipart`.")
        raise SystemExit(2) from None

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wa-inbox-bench-")))
        postgres = None
        if args.postgres:
            from postgres_server import server

            postgres = stack.enter_context(server())
        bench(args, workdir, postgres)


def bench(args: argparse.Namespace, workdir: Path, postgres: Any) -> None:
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    count = GUESSED_RATE * args.duration
    sent_count = count // len(STATUSES) + 1
    bodies, script = workdir / "bodies.tsv", workdir / "cycle.lua"
    started = time.monotonic()
    mean_size, pre_signature, pre_body = write_bodies(bodies, base + PATH, token, count)
    script.write_text(LUA)
    sent = workdir / "sent.db"
    asyncio.run(seed_sent_messages(sent, sent_count))
    templates: dict[str, Path | DatabaseUrl] = {"receiver": sent}
    if args.prefill:
        templates["prefilled"] = prefilled(args.prefill, workdir / "prefilled.db", sent_count)
    if postgres is not None:
        seeding = time.monotonic()
        pg_sent = templates["postgres"] = postgres.create(SENT_TEMPLATE)
        asyncio.run(seed_sent_messages(pg_sent, sent_count))
        analyze(pg_sent)
        print(
            f"(e)'s database: {sent_count} sent messages seeded through the store in "
            f"{time.monotonic() - seeding:.1f} s; {postgres.settings()}"
        )
    before = {kind: counts(db) for kind, db in templates.items()}
    (workdir / "empty.toml").write_text("")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(HERE.parent)])),
        "TWILIO_AUTH_TOKEN": token,
        "PUBLIC_BASE_URL": base,
        "WA_INBOX_CONFIG": str(workdir / "empty.toml"),
        "WA_INBOX_BENCH_LOG": str(workdir / "receiver.log"),
    }
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency on {base}{PATH}; "
        f"{count} distinct signed status callbacks of {mean_size} bytes on average, "
        f"{sent_count} sent messages in (c)'s database "
        f"(made in {time.monotonic() - started:.1f} s); {os.cpu_count()} CPUs; "
        "uvicorn httptools+uvloop, 1 process, no access log",
        flush=True,
    )

    servers = [
        *SERVERS,
        *([("prefilled", PREFILLED)] if args.prefill else []),
        *(pg_servers(args.pg_variant) if postgres is not None else []),
        *(
            (f"{REPLICAS}{n}", f"(e) PG, {n} replicas")
            for n in range(2, args.pg_replicas + 1)
            if postgres is not None
        ),
    ]
    parts = split_bodies(bodies, args.pg_replicas) if args.pg_replicas > 1 else []
    rounds: list[list[Result]] = []
    problems: list[str] = []
    for number in range(args.rounds):  # interleaved, so drift in the machine hits every server alike
        results = []
        for kind, label in servers:
            if kind.startswith(REPLICAS):
                db = fresh_copy(templates, "postgres:", workdir, number, postgres)
                assert isinstance(db, DatabaseUrl)
                env["WA_INBOX_DB"] = db.conninfo
                env.pop("WA_INBOX_BENCH_POOL_SIZE", None)
                count_ = int(kind.removeprefix(REPLICAS))
                results.append(
                    run_replicas(
                        label, port, count_, env, workdir, args, script, parts, pre_signature, pre_body
                    )
                )
                problems += check_round(results, results[-1], db, before["postgres"])
                remove(db, postgres)
                continue
            db = fresh_copy(templates, kind, workdir, number, postgres)
            if db is not None:
                env["WA_INBOX_DB"] = db.conninfo if isinstance(db, DatabaseUrl) else str(db)
            env.pop("WA_INBOX_BENCH_POOL_SIZE", None)
            if isinstance(db, DatabaseUrl):
                pool = configure_variant(postgres, kind, db)
                if pool:
                    env["WA_INBOX_BENCH_POOL_SIZE"] = pool
            server = "receiver" if db is not None else kind
            flushes = wal_syncs(postgres) if isinstance(db, DatabaseUrl) else 0
            results.append(
                run_one(server, label, port, env, workdir, args, script, bodies, pre_signature, pre_body)
            )
            if isinstance(db, DatabaseUrl):
                per = (wal_syncs(postgres) - flushes) / max(1, results[-1].ok)
                print(f"    WAL flushes (pg_stat_wal.wal_sync): {per:.2f} per acknowledged callback")
            if db is not None:
                problems += check_round(results, results[-1], db, before[kind.split(":")[0]])
                remove(db, postgres)
        rounds.append(results)
    medians = {kind: median_result([r[i] for r in rounds]) for i, (kind, _) in enumerate(servers)}
    summary(args, rounds, servers, medians, templates)
    if problems:
        fail("; ".join(problems))


def fresh_copy(
    templates: dict[str, Path | DatabaseUrl], kind: str, workdir: Path, number: int, postgres: Any
) -> Path | DatabaseUrl | None:
    """A fresh copy of `kind`'s database for one round (None for a server that stores nothing)."""
    if kind.startswith("postgres"):
        return postgres.create(f"ingest_round_{number}", template=SENT_TEMPLATE)
    if kind not in templates:
        return None
    template, db = templates[kind], workdir / f"inbox-{kind}-{number}.db"
    for suffix in ("", "-wal"):
        if Path(f"{template}{suffix}").exists():
            subprocess.run(["cp", "--reflink=auto", f"{template}{suffix}", f"{db}{suffix}"], check=True)
    return db


def wal_syncs(postgres: Any) -> int:
    """How often the server has flushed its WAL to disk: 1 per commit means no commit was grouped."""
    return int(postgres.admin("SELECT wal_sync FROM pg_stat_wal")[0][0])


def analyze(url: DatabaseUrl) -> None:
    """Statistics for the planner, as autovacuum gathers them soon after a load (each round's copy
    inherits them)."""
    import psycopg

    with psycopg.connect(url.conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def remove(db: Path | DatabaseUrl, postgres: Any) -> None:
    if isinstance(db, DatabaseUrl):
        postgres.drop(urlsplit(db.conninfo).path.lstrip("/"))
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def summary(
    args: argparse.Namespace,
    rounds: list[list[Result]],
    servers: list[tuple[str, str]],
    medians: dict[str, Result],
    templates: dict[str, Path | DatabaseUrl],
) -> None:
    def verdict(holds: bool) -> str:
        return "yes" if holds else "NO"

    def per_round(kind: str) -> str:
        index, base = [k for k, _ in servers].index(kind), [k for k, _ in servers].index("receiver")
        return ", ".join(f"{r[index].rps / r[base].rps:.0%}" for r in rounds)

    a, b, c = medians["bare"], medians["reference"], medians["receiver"]
    print(f"\nmedians of {args.rounds} interleaved rounds:")
    for result in medians.values():
        latency = f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
        print(f"{result.label:<26} {result.rps:>10.1f} req/s  {latency}")
    print()
    print(f"(c)/(b) = {c.rps / b.rps:.2f}x       goal >= 2x:    {verdict(c.rps >= 2 * b.rps)}")
    print(f"(c)/(a) = {c.rps / a.rps:.0%}        goal >= 30%:   {verdict(c.rps >= 0.3 * a.rps)}")
    print(f"p99 (c) = {c.p99_ms:.2f} ms   goal < 25 ms:  {verdict(c.p99_ms < 25)}")
    if "prefilled" in medians:
        d = medians["prefilled"]
        prefill = templates["prefilled"]
        size = prefill.stat().st_size / 2**20 if isinstance(prefill, Path) else 0.0
        ratio = d.rps / c.rps
        print(
            f"(d)/(c) = {ratio:.0%}        goal >= 90%:   {verdict(ratio >= 0.9)}  "
            f"(a {size:,.0f} MiB database against an empty one; per round: {per_round('prefilled')})"
        )
    for kind, e in medians.items():
        if kind.startswith(("postgres", REPLICAS)):
            name = e.label.split(" ", 1)[0]
            print(
                f"{name}/(c) = {e.rps / c.rps:.0%}   {e.label}, against SQLite "
                f"(per round: {per_round(kind)}); "
                f"p50 {e.p50_ms:.2f} against {c.p50_ms:.2f} ms, p99 {e.p99_ms:.2f} against {c.p99_ms:.2f} ms"
            )


if __name__ == "__main__":
    main()
