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
from pathlib import Path
from typing import Any

import pexpect  # type: ignore[import-untyped]
import pyte

from wa_inbox.store import Store, open_store

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


def inbox_start(db: Path, home: Path, name: str, timeout: float) -> tuple[float, float]:
    """Seconds from spawning `wa-inbox tui --attach` until `name` is on screen; its peak RSS then."""
    started = time.perf_counter()
    screen = Screen(["tui", "--attach", "--db", str(db)], environment(home), home, 120, 40)
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


def cli(db: Path, home: Path, *args: str) -> float:
    """Wall seconds of `wa-inbox ARGS --db DB`, which must succeed."""
    started = time.perf_counter()
    done = subprocess.run(
        [wa_inbox(), *args, "--db", str(db)],
        env=environment(home),
        cwd=home,
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


async def store_reads(db: Path, args: argparse.Namespace, rows: dict[str, Row]) -> tuple[str, int]:
    """The store's reads, in this process; the top conversation's name and how many there are."""
    async with open_store(db, read_only=True) as store:
        first = await store.list_conversations()  # warms the page cache, like a second start does
        top = first[0].contact
        name = top.profile_name or top.address.removeprefix("whatsapp:")
        rows["list_conversations()"] = Row(await timed(args.repeats, store.list_conversations))
        hits = len(await store.search(args.word, limit=100))
        rows[f"search({args.word!r}, limit=100)"] = Row(
            await timed(args.repeats, lambda: store.search(args.word, limit=100)), f"{hits} hits"
        )
        addresses = random.Random(args.seed).sample([c.contact.address for c in first], k=args.opens)
        opens = []
        for address in addresses:
            opens += await timed(1, functools.partial(open_conversation, store, address))
        rows["open a conversation"] = Row(opens, f"{len(opens)} customers")
    return name, len(first)


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
def copied(db: Path) -> Iterator[tuple[Path, Path]]:
    """A copy of `db` (with its WAL, if any) in a temporary directory, which is also the CLI's home."""
    with tempfile.TemporaryDirectory(prefix="wa-inbox-year-") as tmp:
        home = Path(tmp)
        copy = home / db.name
        for suffix in ("", "-wal"):
            if Path(f"{db}{suffix}").exists():
                shutil.copyfile(f"{db}{suffix}", f"{copy}{suffix}")
        yield copy, home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a database made by bench/seed.py")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each store query and CLI command")
    parser.add_argument("--tui-repeats", type=int, default=3, help="inbox starts")
    parser.add_argument("--opens", type=int, default=100, help="conversations opened (random customers)")
    parser.add_argument("--word", default="order", help="the word searched for")
    parser.add_argument("--seed", type=int, default=1, help="which random customers are opened")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for the inbox to start")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist: make it with bench/seed.py")
    rows: dict[str, Row] = {}
    load_before = os.getloadavg()[0]
    with copied(args.db) as (db, home):
        name, conversations = asyncio.run(store_reads(db, args, rows))
        rows["wa-inbox conversations list"] = Row(
            [cli(db, home, "conversations", "list") for _ in range(args.repeats)]
        )
        rows["wa-inbox messages list --limit 100"] = Row(
            [cli(db, home, "messages", "list", "--limit", "100") for _ in range(args.repeats)]
        )
        starts = [inbox_start(db, home, name, args.timeout) for _ in range(args.tui_repeats)]
        rows["inbox start (tui --attach) to list"] = Row([s for s, _ in starts], f"until {name!r} shows")
        peak = statistics.median(rss for _, rss in starts)
        size = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    load = (load_before, os.getloadavg()[0])
    print(f"{args.db}: {size / 2**20:,.0f} MiB, {conversations:,} conversations")
    print(f"load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} CPUs")
    print(f"{'measurement':<38} {'median':>10} {'p95':>10} {'max':>10} {'runs':>5}  note")
    for label, row in rows.items():
        print(
            f"{label:<38} {row.median * 1000:>7.1f} ms {row.p95 * 1000:>7.1f} ms "
            f"{max(row.times) * 1000:>7.1f} ms {len(row.times):>5}  {row.note}"
        )
    print(f"{'inbox peak RSS (VmHWM)':<38} {peak:>7.0f} MB {'':>10} {'':>10} {len(starts):>5}  main process")
    if args.json:
        result = {
            "db": str(args.db),
            "size_mib": round(size / 2**20),
            "conversations": conversations,
            "rows": {label: row.as_json() for label, row in rows.items()},
            "inbox_peak_rss_mib": round(peak),
            "load_average_before_after": load,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
