"""What a year of traffic costs the reads: the store's queries, the CLI's listings and the inbox start.

    .venv/bin/python bench/year.py --db /tmp/year.db [--repeats 5] [--tui-repeats 3] [--json out.json]

On a database made by `bench/seed.py` (first copied to a temporary directory, since the inbox may write
to it), measures, each as the median of several runs:

- `list_conversations()`: the store's query for the inbox's whole list, in this process;
- `wa-inbox conversations list` and `wa-inbox messages list --limit 100`: wall time of the installed
  console script, start to exit, output to /dev/null;
- `search(word, limit=100)`: a word most messages of a year have (`--word`, "order" by default);
- opening a conversation: what the inbox reads when the agent opens one (`thread_page` of 50, the
  contact, the draft; not its `mark_read`), for `--opens` random customers: median, p95 and max;
- the inbox start: `wa-inbox tui --attach` in a pseudo-terminal read through pyte, from spawn until the
  name of the conversation on top of the list is on screen; and the peak RSS of that process (VmHWM)
  once it shows the list.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import inspect
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect  # type: ignore[import-untyped]
import pyte

from wa_inbox.store import Store, open_store

FILL_PAGE = 1000
"""The page the inbox fills its list with after the first paint (`InboxScreen`'s FILL_PAGE)."""

SYNC_QUERY, SYNC_SUPPORTED = b"\x1b[?2026$p", "\x1b[?2026;2$y"
SYNC_BEGIN, SYNC_END = b"\x1b[?2026h", b"\x1b[?2026l"
"""Synchronized output (as in tests/support/terminal.py): the app asks whether the terminal has it,
then brackets each frame; a frame is shown only once whole."""


def wa_inbox() -> str:
    """The console script beside this interpreter, as a user starts it."""
    beside = Path(sys.executable).parent / "wa-inbox"
    found = str(beside) if beside.exists() else shutil.which("wa-inbox")
    if not found:
        sys.exit("wa-inbox is not installed: run `.venv/bin/pip install -e '.[test]'`")
    return found


def environment(home: Path) -> dict[str, str]:
    """This environment without any wa-inbox settings of the user's, as a modern terminal sets it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "LINES", "WA_INBOX_CONFIG", "WA_INBOX_DB") and not k.startswith("TEXTUAL")
    }
    env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    for kind in ("config", "data", "state", "cache"):
        env[f"XDG_{kind.upper()}_HOME"] = str(home / f"xdg-{kind}")
    return env


class Screen:
    """A program on a pty, everything it draws fed to a pyte screen by a thread (whole frames only)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, columns: int, rows: int) -> None:
        self._screen = pyte.Screen(columns, rows)
        self._screen.write_process_input = self._answer  # type: ignore[method-assign]
        self._stream = pyte.ByteStream(self._screen)
        self._lock = threading.Lock()
        self.child = pexpect.spawn(wa_inbox(), args, dimensions=(rows, columns), env=env, cwd=str(cwd))
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        pending = b""
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                return
            if SYNC_QUERY in data:
                self._answer(SYNC_SUPPORTED)
            pending += data
            begin, end = pending.rfind(SYNC_BEGIN), pending.rfind(SYNC_END)
            cut = begin if begin > end else len(pending)
            with self._lock:
                self._stream.feed(pending[:cut])
            pending = pending[cut:]

    def _answer(self, data: str) -> None:
        """What a real terminal answers to queries (device attributes, synchronized output)."""
        with contextlib.suppress(OSError):
            os.write(self.child.child_fd, data.encode())

    def text(self) -> str:
        with self._lock:
            return "\n".join(line.rstrip() for line in self._screen.display)

    def close(self) -> None:
        """ctrl+q as the agent quits; killed if that hangs."""
        if self.child.isalive():
            with contextlib.suppress(OSError):
                os.write(self.child.child_fd, b"\x11")
            deadline = time.monotonic() + 15
            while self.child.isalive() and time.monotonic() < deadline:
                time.sleep(0.05)
        if self.child.isalive():
            self.child.terminate(force=True)
        self._reader.join(timeout=5)
        self.child.close()


def peak_rss_mb(pid: int) -> float:
    """VmHWM of process `pid`, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def inbox_start(code: Code, name: str, timeout: float) -> tuple[float, float]:
    """Seconds from spawning `wa-inbox tui --attach` until `name` is on screen; its peak RSS then."""
    started = time.perf_counter()
    screen = Screen(["tui", "--attach", "--db", str(code.db)], code.env(), code.home, 120, 40)
    try:
        deadline = started + timeout
        while name not in screen.text():
            if time.perf_counter() > deadline or not screen.child.isalive():
                raise SystemExit(f"the inbox did not show {name!r} within {timeout} s:\n{screen.text()}")
            time.sleep(0.01)
        shown = time.perf_counter() - started
        time.sleep(0.5)  # the first thread page and the status follow the list
        return shown, peak_rss_mb(screen.child.pid)
    finally:
        screen.close()


def cli(code: Code, *args: str) -> float:
    """Wall seconds of `wa-inbox ARGS --db DB`, which must succeed."""
    started = time.perf_counter()
    done = subprocess.run(
        [wa_inbox(), *args, "--db", str(code.db)],
        env=code.env(),
        cwd=code.home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"wa-inbox {' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


async def timed(repeats: int, read: Callable[[], Awaitable[Any]]) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await read()
        times.append(time.perf_counter() - started)
    return times


async def open_conversation(store: Store, address: str) -> None:
    """What the inbox reads when the agent opens a conversation (`InboxScreen._show`), its mark_read aside."""
    await store.thread_page(address, limit=50)
    await store.get_contact(address)
    await store.get_draft(address)


def pages_by_index(store: Store) -> bool:
    """The store reads the list a page at a time (`list_conversations(limit, after=...)`), as main does
    since the read model; the baseline's reads the whole list at once."""
    return "after" in inspect.signature(store.list_conversations).parameters


async def whole_list(store: Store) -> list[Any]:
    """Every conversation, read as the inbox reads it: a page of 1,000 at a time, or in one query."""
    if not pages_by_index(store):
        return list(await store.list_conversations())
    rows: list[Any] = []
    page = await store.list_conversations(limit=FILL_PAGE)
    while page:
        rows += page
        if len(page) < FILL_PAGE:
            break
        page = await store.list_conversations(limit=FILL_PAGE, after=page[-1])
    return rows


async def store_reads(db: Path, word: str, opens: int, seed: int, inner: int) -> dict[str, Any]:
    """One round of the store's reads with whatever `wa_inbox` this interpreter imports (the code under
    test or the baseline's): seconds per row, the top conversation's name and how many there are."""
    rows: dict[str, list[float]] = {}
    async with open_store(db, read_only=True) as store:
        first = await whole_list(store)  # warms the page cache, like a second start does
        top = first[0].contact
        name = top.profile_name or top.address.removeprefix("whatsapp:")
        for limit in (50, 100):
            await store.list_conversations(limit=limit)
            rows[f"list_conversations(limit={limit})"] = await timed(
                inner, functools.partial(store.list_conversations, limit=limit)
            )
        rows["whole list (pages of 1,000 / one query)"] = await timed(
            inner, functools.partial(whole_list, store)
        )
        await store.search(word, limit=50)
        rows[f"search({word!r}, limit=50)"] = await timed(
            inner, functools.partial(store.search, word, limit=50)
        )
        rows[f"search({word!r}, limit=100)"] = await timed(
            inner, functools.partial(store.search, word, limit=100)
        )
        if pages_by_index(store):
            rows["conversation_counts()"] = await timed(inner, store.conversation_counts)
        addresses = random.Random(seed).sample([c.contact.address for c in first], k=opens)
        rows["open a conversation"] = []
        for address in addresses:
            rows["open a conversation"] += await timed(
                1, functools.partial(open_conversation, store, address)
            )
    return {"rows": rows, "name": name, "conversations": len(first)}


async def create(db: Path) -> None:
    """A new, empty database at `db`."""
    async with open_store(db):
        pass


class Row:
    def __init__(self, times: list[float], note: str = "") -> None:
        self.times, self.note = times, note

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_json(self) -> dict[str, Any]:
        return {
            "median_ms": round(self.median * 1000, 1),
            "p95_ms": round(self.p95 * 1000, 1),
            "max_ms": round(max(self.times) * 1000, 1),
            "runs": len(self.times),
            "note": self.note,
        }


@contextlib.contextmanager
def copied(db: Path, prefix: str) -> Iterator[tuple[Path, Path]]:
    """A copy of `db` (with its WAL, if any) in a temporary directory, which is also the CLI's home."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        home = Path(tmp)
        copy = home / db.name
        for suffix in ("", "-wal"):
            if Path(f"{db}{suffix}").exists():
                subprocess.run(["cp", "--reflink=auto", f"{db}{suffix}", f"{copy}{suffix}"], check=True)
        yield copy, home


@dataclass
class Code:
    """A version of wa_inbox under measurement: the checkout's (`pythonpath` None) or an exported one."""

    label: str
    db: Path
    home: Path
    pythonpath: str | None = None

    def env(self) -> dict[str, str]:
        env = environment(self.home)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        return env

    def reads(self, args: argparse.Namespace) -> dict[str, Any]:
        """A round of `store_reads` in a process of its own, importing this code's wa_inbox."""
        done = subprocess.run(
            [
                *(sys.executable, str(Path(__file__).resolve()), "--reads-worker", "--db", str(self.db)),
                *("--word", args.word, "--opens", str(args.opens), "--seed", str(args.seed)),
                *("--inner", str(args.inner)),
            ],
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"the store reads of {self.label} failed: {done.stderr.decode()}")
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a database made by bench/seed.py")
    parser.add_argument(
        "--baseline", type=Path, help="a folder holding an earlier release's wa_inbox package"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="rounds of the store reads, runs of each CLI command"
    )
    parser.add_argument("--inner", type=int, default=3, help="runs of each store query per round")
    parser.add_argument("--tui-repeats", type=int, default=3, help="inbox starts")
    parser.add_argument("--opens", type=int, default=100, help="conversations opened (random customers)")
    parser.add_argument("--word", default="order", help="the word searched for")
    parser.add_argument("--seed", type=int, default=1, help="which random customers are opened")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for the inbox to start")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--reads-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist: make it with bench/seed.py")
    if args.reads_worker:
        result = asyncio.run(store_reads(args.db, args.word, args.opens, args.seed, args.inner))
        print(json.dumps(result))
        return
    if args.baseline and not (args.baseline / "wa_inbox").is_dir():
        parser.error(f"{args.baseline} holds no wa_inbox package (export one with git archive)")
    from wa_inbox.store import upgrade_in_place  # not in the baseline, which never runs this function

    load_before = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        db, home = stack.enter_context(copied(args.db, "wa-inbox-year-"))
        started = time.perf_counter()
        steps = upgrade_in_place(db, lambda line: print(f"upgrade: {line}", file=sys.stderr))
        upgraded = time.perf_counter() - started
        if steps:
            print(f"upgraded the copy ({', '.join(steps)}) in {upgraded:.2f} s", file=sys.stderr)
        codes = [Code("after", db, home)]
        if args.baseline:
            old_db, old_home = stack.enter_context(copied(args.db, "wa-inbox-year-baseline-"))
            codes.insert(0, Code("before", old_db, old_home, str(args.baseline.resolve())))
        results = measure(codes, args)
        size = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    load = (load_before, os.getloadavg()[0])
    report(args, results, size, load, steps, upgraded)


def measure(codes: list[Code], args: argparse.Namespace) -> dict[str, Any]:
    """Every row for every code, code after code within each round (before, after, before, after, ...)."""
    rows: dict[str, dict[str, Row]] = {code.label: {} for code in codes}
    info: dict[str, Any] = {}

    def add(code: Code, label: str, times: list[float], note: str = "") -> None:
        row = rows[code.label].setdefault(label, Row([], note))
        row.times += times

    for _ in range(args.repeats):
        for code in codes:
            result = code.reads(args)
            info.update(name=result["name"], conversations=result["conversations"])
            for label, times in result["rows"].items():
                add(code, label, times)
    for _ in range(args.repeats):
        for code in codes:
            add(code, "wa-inbox conversations list", [cli(code, "conversations", "list")])
            add(code, "wa-inbox messages list --limit 100", [cli(code, "messages", "list", "--limit", "100")])
    rss: dict[str, list[float]] = {code.label: [] for code in codes}
    for _ in range(args.tui_repeats):
        for code in codes:
            shown, peak = inbox_start(code, info["name"], args.timeout)
            add(code, "inbox start until the list shows", [shown], f"until {info['name']!r} shows")
            rss[code.label].append(peak)
    after = codes[-1]
    with tempfile.TemporaryDirectory(prefix="wa-inbox-year-empty-") as tmp:
        empty = Code("empty", Path(tmp) / "empty.db", Path(tmp))
        asyncio.run(create(empty.db))
        for _ in range(args.tui_repeats):
            shown, _ = inbox_start(empty, "No conversations yet", args.timeout)
            add(after, "inbox start, empty database (fixed cost)", [shown], "until its empty list shows")
    return {"rows": rows, "rss": rss, **info}


def report(
    args: argparse.Namespace,
    results: dict[str, Any],
    size: int,
    load: tuple[float, float],
    steps: list[str],
    upgraded: float,
) -> None:
    rows: dict[str, dict[str, Row]] = results["rows"]
    rss: dict[str, list[float]] = results["rss"]
    after, before = rows["after"], rows.get("before", {})
    print(f"{args.db}: {size / 2**20:,.0f} MiB (upgraded copy), {results['conversations']:,} conversations")
    if steps:
        print(f"upgrade_in_place on the copy: {upgraded:.2f} s ({', '.join(steps)})")
    print(f"load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} CPUs")
    print(
        f"{'measurement':<44} {'before':>10} {'after':>10} {'ratio':>7} {'p95 after':>10} {'max after':>10} "
        f"{'runs':>5}"
    )
    for label, row in after.items():
        old = before.get(label)
        was = f"{old.median * 1000:>7.1f} ms" if old else f"{'':>10}"
        ratio = f"{old.median / row.median:>6.1f}x" if old else f"{'':>7}"
        print(
            f"{label:<44} {was} {row.median * 1000:>7.1f} ms {ratio} {row.p95 * 1000:>7.1f} ms "
            f"{max(row.times) * 1000:>7.1f} ms {len(row.times):>5}  {row.note}"
        )
    for label, row in before.items():
        if label not in after:
            print(f"{label:<44} {row.median * 1000:>7.1f} ms {'(before only)':>10}")
    peaks = {label: statistics.median(values) for label, values in rss.items()}
    old_peak = f"{peaks['before']:>7.0f} MB" if "before" in peaks else f"{'':>10}"
    print(f"{'inbox peak RSS (VmHWM, main process)':<44} {old_peak} {peaks['after']:>7.0f} MB")
    if args.json:
        result = {
            "db": str(args.db),
            "size_mib": round(size / 2**20),
            "conversations": results["conversations"],
            "upgrade": {"steps": steps, "seconds": round(upgraded, 2)},
            "rows": {code: {label: row.as_json() for label, row in by.items()} for code, by in rows.items()},
            "inbox_peak_rss_mib": {label: round(peak) for label, peak in peaks.items()},
            "load_average_before_after": load,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
