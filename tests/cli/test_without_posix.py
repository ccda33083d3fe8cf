"""Platforms without POSIX signals or `fork` (Windows): nothing assumes them (issue 11).

Simulated here: a `signal` module without SIGPIPE (and without SIGTERM), and a
`multiprocessing` that offers only `spawn`; the parallel path must then spawn its
workers and still print a serial run's bytes.
"""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from tests.helpers import REPO, clean_env, command
from vevents_cli import samples
from vevents_cli.cli import app
from vevents_cli.pipeline import parallel
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES


def test_main_runs_without_sigpipe_or_sigterm(monkeypatch: pytest.MonkeyPatch, capsysbinary) -> None:
    monkeypatch.delattr(signal, "SIGPIPE", raising=False)
    monkeypatch.delattr(signal, "SIGTERM", raising=False)
    with pytest.raises(SystemExit) as exit_:
        app.main(["sample", "voucher.published"])
    assert exit_.value.code == 0
    assert orjson.loads(capsysbinary.readouterr().out)["type"] == "voucher.published"


def test_no_fork_means_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.start_method() in ("fork", "spawn")
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert parallel.start_method() == "spawn"
    monkeypatch.delattr(parallel.os, "sched_getaffinity", raising=False)
    monkeypatch.delenv("VEVENTS_JOBS", raising=False)
    assert parallel.cores() >= 1


# A platform without fork (and without SIGPIPE): the run, in a fresh interpreter.
WITHOUT_FORK = textwrap.dedent("""
    import multiprocessing, signal, sys
    multiprocessing.get_all_start_methods = lambda: ["spawn"]
    if hasattr(signal, "SIGPIPE"):
        del signal.SIGPIPE
    from vevents_cli.pipeline import parallel
    parallel.MIN_SIZE, parallel.CHUNK, parallel.SCAN = 1024, 64 * 1024, 4 * 1024
    used = []
    real = multiprocessing.get_context
    multiprocessing.get_context = lambda method=None: used.append(method) or real(method)
    if __name__ == "__main__":
        from vevents_cli.cli.app import main
        try:
            main(sys.argv[1:])
        finally:
            sys.stderr.write(f"start methods used: {used}\\n")
""")


@pytest.mark.parametrize(
    "args", [("show", "--table"), ("show", "--format", "json"), ("validate", "--format", "github")]
)
def test_a_spawned_parallel_run_prints_a_serial_runs_bytes(tmp_path: Path, args: tuple[str, ...]) -> None:
    lines = []
    for i in range(400):
        lines.append(orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)])))
        if i % 97 == 0:
            lines.append(b'{"id": "whs_broken", "data": ')
    log = tmp_path / "log.ndjson"
    log.write_bytes(b"\n".join(lines) + b"\n")
    assert len(list(parallel.chunks(log))) == 1  # (real chunks are larger: the script makes them small)
    script = tmp_path / "without_fork.py"
    script.write_text(WITHOUT_FORK)

    def run(jobs: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, capture_output=True, timeout=300, cwd=REPO, env=clean_env({"VEVENTS_JOBS": jobs}))

    spawned = run("2", sys.executable, str(script), *args, str(log))
    serial = run("1", *command(*args, str(log)))
    assert b"start methods used: ['spawn']" in spawned.stderr  # workers were spawned, not forked
    assert spawned.returncode == serial.returncode == 1
    assert spawned.stdout == serial.stdout
    errors = [line for line in spawned.stderr.splitlines() if not line.startswith(b"start methods")]
    assert sorted(errors) == sorted(serial.stderr.splitlines())
