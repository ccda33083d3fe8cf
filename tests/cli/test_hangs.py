"""Never hang: the parallel path under `| head`, SIGTERM and truncation; several values on a line.

Each run is a child process in its own session (its own process group) with a time limit:
one that does not end within it fails the test (and its group is killed); a process of
the group left after it ended fails it too. The many-tries versions are `heavy`; a few
tries run in the default suite. `python -m tests.tools.soak --minutes 10` runs the same
tries for as long as asked.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from tests.helpers import clean_env, command, invoke
from tests.tools.soak import LIMIT, Try, build_log, group_members, head, leftovers
from vevents_cli import samples
from vevents_cli.pipeline import parallel
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

TRACEBACK = "Traceback (most recent call last)"
TRUNCATED = "truncated while it was read"

pytestmark = pytest.mark.xdist_group("hangs")  # one 17 MiB log for the module


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A >16 MiB NDJSON log (the parallel path), every line its own event."""
    return build_log(tmp_path_factory.mktemp("hangs") / "big.ndjson")


def _ended(run: Try, what: str) -> tuple[int, str]:
    """The run's status and stderr, once it ended within LIMIT seconds and left no process."""
    status, err = run.finish()
    left = leftovers(run.proc.pid)
    assert status is not None, f"{what}: did not end within {LIMIT} s"
    assert not left, f"{what}: {left} processes left after it ended"
    assert TRACEBACK not in err and "internal error" not in err, err[-2000:]
    return status, err


def _head_c1(log: Path, jobs: str) -> None:
    run = head(log, jobs)  # (one byte read, at most LIMIT seconds waited for it, then stdout closed)
    status, err = _ended(run, f"VEVENTS_JOBS={jobs} show | head -c1")
    assert status == 141, err[-500:]
    assert not err, err[-500:]


def _sigterm(log: Path, jobs: str, delay: float) -> None:
    """SIGTERM to the run's process group `delay` seconds after its workers started (the
    parallel path; a signal in the start-up is not what this is about)."""
    run = Try(["validate", str(log)], jobs)
    deadline = time.monotonic() + LIMIT
    while len(group_members(run.proc.pid)) < 2 and run.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        run.proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:  # a group signal: the CLI and its workers get it at once
        os.killpg(run.proc.pid, signal.SIGTERM)
    status, err = _ended(run, f"VEVENTS_JOBS={jobs} validate, SIGTERM {delay:.2f} s after its workers started")
    assert status in (143, 0), err[-500:]  # 0: it ended before the signal came


def test_head_c1_on_parallel_runs_ends_with_141_and_no_process(big_log: Path) -> None:
    for jobs in ("16", "3"):
        _head_c1(big_log, jobs)


@pytest.mark.heavy
@pytest.mark.parametrize("jobs", ["16", "2", "3"])
def test_head_c1_never_hangs_in_many_tries(big_log: Path, jobs: str) -> None:
    for _ in range(15):
        _head_c1(big_log, jobs)


def test_sigterm_to_the_process_group_ends_a_parallel_run_with_143_and_no_process(big_log: Path) -> None:
    for jobs, delay in (("16", 0.2), ("2", 0.6)):
        _sigterm(big_log, jobs, delay)


@pytest.mark.heavy
@pytest.mark.parametrize("jobs", ["16", "2", "3"])
def test_sigterm_at_random_moments_never_hangs(big_log: Path, jobs: str) -> None:
    rng = random.Random(int(jobs))
    for _ in range(15):
        _sigterm(big_log, jobs, rng.uniform(0, 2))


# --- truncation while reading (logrotate's copytruncate) -------------------------------------------

# The real CLI, with a file that is truncated at a set moment of its reading: in a parallel run
# right after its first chunk was cut (in the middle of the next chunk, inside a line), in a
# serial run after the first block of its lines was read.
TRUNCATING = textwrap.dedent("""
    import os, sys
    from vevents_cli.pipeline import parallel, records
    parallel.MIN_SIZE, parallel.CHUNK, parallel.SCAN = 1024, 64 * 1024, 4 * 1024
    path, size = sys.argv[1], int(sys.argv[2])
    real_count, real_lines = parallel._count_lines, records.lines

    def count_then_truncate(f, start, end, buffer):
        n = real_count(f, start, end, buffer)
        os.truncate(path, min(size, os.path.getsize(path)))
        return n

    def lines_then_truncate(stream, limit):
        for i, line in enumerate(real_lines(stream, limit)):
            yield line
            if i == 0:
                os.truncate(path, min(size, os.path.getsize(path)))

    parallel._count_lines, records.lines = count_then_truncate, lines_then_truncate
    if __name__ == "__main__":
        from vevents_cli.cli.app import main
        main(sys.argv[3:])
""")


def _log_of(path: Path, lines: int) -> Path:
    with path.open("wb") as f:
        for i in range(lines):
            event = samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)])
            event["id"] = f"evt_{i:07d}"
            f.write(orjson.dumps(event) + b"\n")
    return path


@pytest.mark.parametrize("jobs", ["2", "1"], ids=["parallel", "serial"])
def test_a_log_truncated_while_it_is_read_ends_and_says_so(tmp_path: Path, jobs: str) -> None:
    log = _log_of(tmp_path / "log.ndjson", 400)
    cut = 64 * 1024 + 20_000  # inside the second chunk, inside a line
    script = tmp_path / "truncating.py"
    script.write_text(TRUNCATING)
    args = ["show", "--format", "json", str(log)]
    run = Try(args, jobs, stdout=subprocess.PIPE, prefix=[sys.executable, str(script), str(log), str(cut)])
    status, err = _ended(run, f"VEVENTS_JOBS={jobs}: show of a log truncated while read")
    assert log.stat().st_size == cut
    out = run.out
    # what was read is processed: every line before the cut is an event, as a run on the
    # truncated file prints them; then one line names the truncation
    after = subprocess.run(command(*args), capture_output=True, env=clean_env({"VEVENTS_JOBS": "1"}), timeout=LIMIT)
    assert out == after.stdout
    assert len(out.splitlines()) == log.read_bytes().count(b"\n") > 10
    assert status == 1
    errors = err.splitlines()
    assert errors[:-1] == after.stderr.decode().splitlines()  # the cut last line, as a run on the truncated file
    assert (
        errors[-1] == f"vevents: {log}: {TRUNCATED} (the file shrank: rotated with copytruncate?): the rest is not read"
    )


# --- VEVENTS_JOBS=999: never more workers than chunks, nor than JOBS_PER_CORE per core --------------


@pytest.mark.heavy
def test_jobs_999_starts_no_more_workers_than_chunks_or_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing.process

    log = _log_of(tmp_path / "log.ndjson", 1200)
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 64 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    chunks = len(list(parallel.chunks(log)))
    started: list[object] = []
    real = multiprocessing.process.BaseProcess.start

    def start(self: multiprocessing.process.BaseProcess) -> None:
        started.append(self)
        if len(started) > 64:
            raise RuntimeError(f"{len(started)} worker processes started for {chunks} chunks")
        real(self)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    serial = invoke("validate", "--format", "json", str(log))
    monkeypatch.setenv("VEVENTS_JOBS", "999")
    result = invoke("validate", "--format", "json", str(log))
    assert result.stdout == serial.stdout and result.exit_code == serial.exit_code
    assert 1 < len(started) == min(chunks, parallel.max_jobs())
    small = _log_of(tmp_path / "small.ndjson", 100)  # fewer chunks than the cap: one worker each
    started.clear()
    assert invoke("validate", str(small)).exit_code == 0
    assert 1 < len(started) == len(list(parallel.chunks(small))) < parallel.max_jobs()


# --- several values on one line ---------------------------------------------------------------------


def test_several_values_on_one_line_keep_their_locators_and_errors() -> None:
    published = orjson.dumps(samples.sample("voucher.published"))
    line1 = published + b" " + published + b'{"bad":}\n'
    line2 = published + b"\t[" + published + b"]" + published + b"\n"
    result = invoke("show", "--format", "json", input=line1 + line2)
    events = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(e["line"], e["index"]) for e in events] == [(1, None), (1, None), (2, None), (2, 0), (2, None)]
    assert result.stderr == "vevents: <stdin>:1:8: invalid JSON: unexpected character, expected a JSON value\n"
    assert result.exit_code == 1


@pytest.mark.heavy
def test_twenty_thousand_values_on_one_line_are_read_in_linear_time() -> None:
    """`cat fixtures/*.json | vevents validate` of compact files with no newline: 20,000 values
    on one line took 78 s (each value re-scanned and re-parsed the rest of the line)."""
    values = [orjson.dumps({**samples.sample("voucher.published"), "id": f"evt_{i}"}) for i in range(20_000)]
    proc = subprocess.run(
        command("validate", "-q"), input=b"".join(values), capture_output=True, env=clean_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-500:]
