"""Soaking the parallel path: it never hangs, never leaves a process, never prints a traceback.

For as long as asked, against a >16 MiB NDJSON log built from the bundled samples (every id
unique), with VEVENTS_JOBS 2, 3 or 16, one try after another, each at random:

- head: `vevents show LOG --format json | head -c1` (the reader goes after one byte): 141;
- sigterm: `vevents validate LOG`, SIGTERM to its process group (what `timeout`, systemd and
  a CI cancel send) after 0-3 s: 143 (-15 or 130 in its start-up; 1 or 0 if it ended first);
- truncate: `vevents show LOG --format json` on a fresh copy of the log, truncated after
  0-2 s at a random size (logrotate's copytruncate): 1 or 0, the truncation named on stderr.

Each try runs in its own session (its own process group) and has LIMIT seconds to end; one
that does not is a hang (its group is then killed). A process of the group still there
GRACE seconds after the try ended is a leftover (killed too). A "Traceback" or an "internal
error" on stderr is counted; so is an exit status the try does not expect. Prints the
counts; exits 1 on any hang, leftover or traceback:

    python -m tests.tools.soak --minutes 10
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

from tests.helpers.cli import clean_env, command
from vevents_cli import samples
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

LIMIT = 60.0  # seconds a try has to end (a run of the whole log takes a few on a loaded 2-core machine)
GRACE = 3.0  # seconds its processes have to be gone after it ended
SIZE = 17 * 1024 * 1024  # above the 16 MiB threshold of the parallel path
JOBS = ("2", "3", "16")
# sigterm in vevents' first few tenths of a second: -15 before it set its handlers (Python
# starting up; a shell shows 143 too), 130 while it reads its command line (start-up, not the
# parallel path); both counted apart ("sigterm exit -15/130")
EXPECTED = {"head": {141}, "sigterm": {143, -15, 130, 0, 1}, "truncate": {0, 1}}


def build_log(path: Path, size: int = SIZE) -> Path:
    """An NDJSON log of at least `size` bytes: every sample type in three dialects, each
    line with its own id."""
    dialects = ("v2024", "distribution", "legacy")
    events = [samples.sample(etype, dialect) for dialect in dialects for etype in SCHEMA_TYPES]
    written = 0
    with path.open("wb") as f:
        i = 0
        while written < size:
            event = dict(events[i % len(events)])
            event["id"] = f"evt_soak_{i:09d}"
            line = orjson.dumps(event) + b"\n"
            f.write(line)
            written += len(line)
            i += 1
    return path


def group_members(pgid: int) -> list[int]:
    """The processes of process group `pgid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def leftovers(pgid: int, grace: float = GRACE) -> int:
    """How many processes of the group are still there after `grace` seconds (then killed)."""
    deadline = time.monotonic() + grace
    while (left := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if left:
        kill_group(pgid)
    return len(left)


class Try:
    """One run of the CLI (`vevents ARGS`, or `prefix ARGS`) in its own session; `finish` waits
    for it, at most LIMIT seconds."""

    def __init__(
        self, args: list[str], jobs: str, stdout: int = subprocess.DEVNULL, prefix: list[str] | None = None
    ) -> None:
        self.out = b""
        self.proc = subprocess.Popen(
            [*prefix, *args] if prefix else command(*args),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=clean_env({"VEVENTS_JOBS": jobs, "COLUMNS": "120"}),
            start_new_session=True,
        )

    def finish(self, limit: float = LIMIT) -> tuple[int | None, str]:
        """(exit status, stderr), stdout in `out`; None: it did not end within `limit` seconds
        (then its group is killed)."""
        try:
            out, err = self.proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.communicate(timeout=10)
            return None, ""
        self.out = out or b""
        return self.proc.returncode, err.decode(errors="replace")


def head(log: Path, jobs: str, rng: random.Random | None = None) -> Try:
    run = Try(["show", str(log), "--format", "json"], jobs, stdout=subprocess.PIPE)
    assert run.proc.stdout is not None
    if select.select([run.proc.stdout], [], [], LIMIT)[0]:  # (a run that hangs before any output: a hang)
        os.read(run.proc.stdout.fileno(), 1)
    run.proc.stdout.close()
    return run


def sigterm(log: Path, jobs: str, rng: random.Random) -> Try:
    run = Try(["validate", str(log)], jobs)
    time.sleep(rng.uniform(0, 3))
    with contextlib.suppress(OSError):
        os.killpg(run.proc.pid, signal.SIGTERM)
    return run


def truncate(log: Path, jobs: str, rng: random.Random) -> Try:
    copy = log.with_name("truncated.ndjson")
    shutil.copyfile(log, copy)
    run = Try(["show", str(copy), "--format", "json"], jobs)
    time.sleep(rng.uniform(0, 2))
    os.truncate(copy, rng.randrange(0, SIZE))
    return run


SCENARIOS = {"head": head, "sigterm": sigterm, "truncate": truncate}


def soak(minutes: float, seed: int, folder: Path) -> Counter[str]:
    rng = random.Random(seed)
    log = build_log(folder / "log.ndjson")
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        name, jobs = rng.choice(list(SCENARIOS)), rng.choice(JOBS)
        run = SCENARIOS[name](log, jobs, rng)
        status, err = run.finish()
        counts["tries"] += 1
        counts[f"{name} tries"] += 1
        if status is None:
            counts["hangs"] += 1
            print(f"HANG: {name} with VEVENTS_JOBS={jobs}", flush=True)
        elif status not in EXPECTED[name]:
            counts["unexpected statuses"] += 1
            print(f"unexpected status {status}: {name} with VEVENTS_JOBS={jobs}: {err[-300:]!r}", flush=True)
        else:
            counts[f"{name} exit {status}"] += 1
        if "Traceback" in err or "internal error" in err:
            counts["tracebacks"] += 1
            print(f"TRACEBACK: {name} with VEVENTS_JOBS={jobs}: {err[-2000:]}", flush=True)
        if name == "truncate" and "truncated while it was read" in err:
            counts["truncations reported"] += 1
        left = leftovers(run.proc.pid)
        if left:
            counts["leftover processes"] += left
            print(f"LEFTOVER: {left} processes after {name} with VEVENTS_JOBS={jobs}", flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    print(f"soak: {args.minutes} minutes, seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="vevents-soak-") as folder:
        counts = soak(args.minutes, args.seed, Path(folder))
    for key in ("tries", "hangs", "leftover processes", "tracebacks", "unexpected statuses"):
        counts.setdefault(key, 0)
    for key, value in sorted(counts.items()):
        print(f"{key}: {value}")
    failed = counts["hangs"] or counts["leftover processes"] or counts["tracebacks"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
