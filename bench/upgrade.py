"""How long the upgrade in place takes on a database made by an earlier release's schema.

    .venv/bin/python bench/upgrade.py --db /tmp/year.db [--repeats 3] [--json out.json]

`--db` is never opened for writing: each run copies it (with `cp --reflink=auto`, its WAL too) to a
temporary directory and times `wa_inbox.store.upgrade_in_place` on the copy, the call the inbox makes
before it takes the terminal, with a fresh copy each time (page cache warm after the copy). Prints the
steps applied, the progress lines the upgrade reported, each run's time, the median, and the file size
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from wa_inbox.store import upgrade_in_place


def copy_database(source: Path, target: Path) -> None:
    """`source` (and its WAL, if any) copied to `target`, sharing blocks where the file system can."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            subprocess.run(["cp", "--reflink=auto", f"{source}{suffix}", f"{target}{suffix}"], check=True)


def size_mib(db: Path) -> float:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--db", type=Path, required=True, help="a database of an earlier schema (left as it is)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="upgrades, each on a fresh copy")
    parser.add_argument("--tmp", type=Path, default=None, help="where the copies go (default: the system's)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if not args.db.exists():
        parser.error(f"{args.db} does not exist")
    times: list[float] = []
    steps: list[str] = []
    after = 0.0
    load_before = os.getloadavg()[0]
    for run in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="wa-inbox-upgrade-", dir=args.tmp) as tmp:
            copy = Path(tmp) / args.db.name
            copy_database(args.db, copy)
            lines: list[str] = []
            started = time.perf_counter()
            steps = upgrade_in_place(copy, lines.append)
            times.append(time.perf_counter() - started)
            after = size_mib(copy)
        print(f"run {run + 1}: {times[-1]:.2f} s, steps {', '.join(steps) or 'none'}", flush=True)
        for line in lines:
            print(f"  reported: {line}")
    load = (load_before, os.getloadavg()[0])
    print(f"{args.db}: {size_mib(args.db):,.0f} MiB before, {after:,.0f} MiB after the upgrade")
    each = ", ".join(f"{t:.2f}" for t in times)
    print(f"upgrade_in_place: median {statistics.median(times):.2f} s of {len(times)} runs ({each})")
    print(f"load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after, on {os.cpu_count()} CPUs")
    if args.json:
        result = {
            "db": str(args.db),
            "steps": steps,
            "seconds": [round(t, 2) for t in times],
            "median_s": round(statistics.median(times), 2),
            "size_mib_before_after": [round(size_mib(args.db)), round(after)],
            "load_average_before_after": load,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
