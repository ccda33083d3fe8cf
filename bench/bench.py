"""Throughput and memory of vevents on a generated webhook log.

    python bench/bench.py                    # 100k mixed events: show/validate/stats
    python bench/bench.py --events 500000    # a bigger log
    python bench/bench.py --gigabyte         # also: peak RSS on a ~1 GB log (slow)
    python bench/bench.py --startup          # one-file and 1,000-file validate wall time

Each figure is the median of --repeat runs of the real console script (a subprocess), so
start-up is included; events/s = events in the log / wall seconds. Peak RSS is GNU
time's %M (apt install time). Nothing here asserts: it reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vevents_cli import samples  # noqa: E402
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES  # noqa: E402

DIALECTS = ("v2024", "v2024", "v2024", "distribution", "legacy")  # mostly v2024, as in real logs


def generate(path: Path, events: int) -> int:
    """A mixed-type NDJSON log built from the bundled samples; returns its size in bytes."""
    pool = [
        orjson.dumps(samples.sample(etype, dialect))
        for etype in SCHEMA_TYPES
        for dialect in DIALECTS
    ]
    with path.open("wb") as out:
        batch = []
        for i in range(events):
            batch.append(pool[(i * 7919) % len(pool)])
            if len(batch) == 10_000:
                out.write(b"\n".join(batch) + b"\n")
                batch.clear()
        if batch:
            out.write(b"\n".join(batch) + b"\n")
    return path.stat().st_size


def vevents() -> list[str]:
    exe = shutil.which("vevents")
    return [exe] if exe else [sys.executable, "-m", "vevents_cli"]


TIME = shutil.which("time") or "/usr/bin/time"


def run(args: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MiB, exit code) of one run, output discarded.

    Peak RSS is GNU time's %M: the largest of vevents and its worker processes (a child
    forked from this script would count this script's memory too).
    """
    handle, report = tempfile.mkstemp(prefix="vevents-time-")
    os.close(handle)
    start = time.perf_counter()
    proc = subprocess.run([TIME, "-f", "%M", "-o", report, *vevents(), *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    text = Path(report).read_text().strip().splitlines()
    os.unlink(report)
    rss_kib = int(text[-1]) if text and text[-1].isdigit() else 0
    return wall, rss_kib // 1024, proc.returncode


def measure(label: str, args: list[str], events: int, repeat: int) -> dict[str, float]:
    runs = [run(args) for _ in range(repeat)]
    wall = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    row = {"command": label, "seconds": round(wall, 3), "events_per_s": round(events / wall) if events else 0,
           "peak_rss_mib": rss}
    print(f"{label:<38} {wall:8.3f} s  {row['events_per_s']:>9,} ev/s  peak RSS {rss:>4} MiB", flush=True)
    return row


def throughput(workdir: Path, events: int, repeat: int) -> None:
    log = workdir / "log.ndjson"
    size = generate(log, events)
    print(f"log: {events:,} events, {size / 1e6:.1f} MB ({size / events:.0f} B/event)")
    measure("show --format json", ["show", "--format", "json", str(log)], events, repeat)
    measure("show --table", ["show", "--table", str(log)], events, repeat)
    measure("validate -q", ["validate", "-q", str(log)], events, repeat)
    measure("stats", ["stats", str(log)], events, repeat)


def startup(workdir: Path, repeat: int) -> None:
    one = workdir / "one.json"
    one.write_bytes(orjson.dumps(samples.sample("voucher.published"), option=orjson.OPT_INDENT_2))
    folder = workdir / "files"
    folder.mkdir()
    for i in range(1000):
        etype = SCHEMA_TYPES[i % len(SCHEMA_TYPES)]
        (folder / f"{i:04}.json").write_bytes(orjson.dumps(samples.sample(etype)))
    measure("validate one file", ["validate", "-q", str(one)], 1, repeat)
    measure("validate 1,000 small files", ["validate", "-q", str(folder)], 1000, repeat)


def gigabyte(workdir: Path) -> None:
    log = workdir / "big.ndjson"
    per_event = len(orjson.dumps(samples.sample("voucher.published")))
    events = 1_000_000_000 // per_event
    size = generate(log, events)
    print(f"big log: {events:,} events, {size / 1e9:.2f} GB")
    measure("show --format json (1 GB)", ["show", "--format", "json", str(log)], events, 1)
    measure("validate -q (1 GB)", ["validate", "-q", str(log)], events, 1)
    measure("stats (1 GB)", ["stats", str(log)], events, 1)
    log.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup", action="store_true", help="only the start-up figures")
    parser.add_argument("--gigabyte", action="store_true", help="also peak RSS on a ~1 GB log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vevents-bench-") as tmp:
        workdir = Path(tmp)
        if args.startup:
            startup(workdir, max(args.repeat, 10))
            return
        throughput(workdir, args.events, args.repeat)
        startup(workdir, max(args.repeat, 10))
        if args.gigabyte:
            gigabyte(workdir)


if __name__ == "__main__":
    main()
