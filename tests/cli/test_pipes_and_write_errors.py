"""Closed pipes, write errors and closed streams, through the real CLI in subprocesses.

stdout into a pipe nobody reads any more (EPIPE): 141, nothing on stderr, in every command
and format. stdout that cannot be written (`/dev/full`, closed with `>&-`): one line naming
it, 74. stderr closed or a closed pipe: the run's own status, stdout whole. `validate -q`
reports each unreadable line (the `| head -1` runs on a large parallel log, and the
processes they leave: tests/cli/test_black_box_rules.py).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.helpers import command_line, invoke, popen, run, sh
from vevents_cli import samples
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

SECRET = "whsec_Test-Secret_5c2f"
FULL = "vevents: cannot write to stdout: No space left on device"
CLOSED = "vevents: cannot write to stdout: Bad file descriptor"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipes")


@pytest.fixture(scope="module")
def log(folder: Path) -> Path:
    """Every sample type, ten times over (more than a pipe buffer of output in every format)."""
    lines = [orjson.dumps(samples.sample(t)) for t in sorted(SCHEMA_TYPES)] * 10
    path = folder / "log.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def broken(folder: Path) -> Path:
    """Sample events with one line cut short, at line 3."""
    lines = [orjson.dumps(samples.sample(t)) for t in sorted(SCHEMA_TYPES)[:5]]
    lines.insert(2, lines[0][:40])
    path = folder / "broken.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def signed(folder: Path) -> tuple[Path, str]:
    body = orjson.dumps(samples.sample("voucher.published"))
    path = folder / "payload.json"
    path.write_bytes(body)
    return path, hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def closed_pipe() -> Iterator[int]:
    """The writing end of a pipe whose reading end is already closed: every write is EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        yield write
    finally:
        os.close(write)


def commands(log: Path, signed: tuple[Path, str]) -> list[tuple[str, ...]]:
    """Every command and format that writes to stdout."""
    payload, signature = signed
    return [
        ("show", str(log)),
        ("show", "--table", str(log)),
        ("show", "--format", "json", str(log)),
        ("show", "--raw", str(log)),
        ("validate", str(log)),
        ("validate", "-q", str(log)),
        ("validate", "--format", "json", str(log)),
        ("validate", "--format", "junit", str(log)),
        ("validate", "--format", "github", "--expect", "invalid", str(log)),
        ("stats", str(log)),
        ("types",),
        ("schema", "voucher.published"),
        ("sample", "voucher.published"),
        ("redact", "--salt", "s", str(log)),
        ("verify", str(payload), "--secret", SECRET, "--signature", signature),
        ("--version",),
        ("--help",),
        ("show", "--help"),
    ]


def test_a_closed_pipe_ends_every_command_with_141_quietly(
    log: Path, signed: tuple[Path, str], closed_pipe: int
) -> None:
    for args in commands(log, signed):
        proc = run(*args, stdout=closed_pipe, stderr=subprocess.PIPE, env={"VEVENTS_JOBS": "2"})
        assert (proc.returncode, proc.stderr) == (141, b""), args


def test_a_closed_pipe_ends_listen_with_141_quietly(closed_pipe: int) -> None:
    proc = popen("listen", "--port", "0", stdin=subprocess.DEVNULL, stdout=closed_pipe, stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141
    [banner] = err.decode().splitlines()  # its banner (before any output), and nothing after it
    assert banner.startswith("listening on http://127.0.0.1:")


@pytest.mark.parametrize(
    "args",
    [("show",), ("show", "--table"), ("show", "--format", "json"), ("validate", "--format", "junit"), ("redact",)],
    ids=" ".join,
)
def test_reading_one_line_then_closing_the_pipe_ends_with_141(log: Path, args: tuple[str, ...]) -> None:
    """`| head -1`, the first-line case included (rich's own broken-pipe handling, SystemExit(1),
    is not what decides)."""
    proc = popen(*args, str(log), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (141, b"")


@pytest.mark.parametrize(
    "args",
    [
        ("validate",),
        ("validate", "--format", "json"),
        ("show",),
        ("show", "--table"),
        ("stats",),
        ("redact", "--salt", "s"),
    ],
    ids=" ".join,
)
def test_a_full_disk_is_one_line_and_74(log: Path, args: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        proc = run(*args, str(log), stdout=full, stderr=subprocess.PIPE)
    assert proc.returncode == 74
    assert proc.stderr.decode().splitlines() == [FULL]


def test_a_full_disk_for_small_outputs_and_version(signed: tuple[Path, str]) -> None:
    payload, signature = signed
    for args in (
        ("sample", "voucher.published"),
        ("schema", "voucher.published"),
        ("types",),
        ("verify", str(payload), "--secret", SECRET, "--signature", signature),
        ("--version",),
    ):
        with open("/dev/full", "wb") as full:
            proc = run(*args, stdout=full, stderr=subprocess.PIPE)
        assert (proc.returncode, proc.stderr.decode().splitlines()) == (74, [FULL]), args


def test_a_closed_stdout_is_one_line_and_74(log: Path) -> None:
    for args in (("validate", str(log)), ("show", "--table", str(log)), ("sample", "voucher.published")):
        proc = sh(f"{command_line(*args)} >&-")
        assert (proc.returncode, proc.stderr.decode().splitlines()) == (74, [CLOSED]), args


def test_redact_out_to_a_full_disk_names_the_file(log: Path) -> None:
    proc = run("redact", "--salt", "s", "--out", "/dev/full", str(log))
    assert proc.returncode == 74
    assert proc.stderr.decode().splitlines() == ["vevents: cannot write to /dev/full: No space left on device"]


def test_closed_stderr_keeps_the_runs_status(log: Path, broken: Path) -> None:
    ok = sh(f"{command_line('validate', str(log))} 2>&-")
    assert ok.returncode == 0 and ok.stdout.decode().endswith(" valid, 0 invalid, 0 unreadable\n")
    failing = sh(f"{command_line('validate', str(broken))} 2>&-")
    assert failing.returncode == 1 and failing.stdout.decode() == "5 valid, 0 invalid, 1 unreadable\n"
    assert sh(f"{command_line('sample', 'voucher.published')} 2>&-").returncode == 0
    assert sh(f"{command_line('validate', str(broken))} >/dev/full 2>&-").returncode == 74


def test_stderr_into_a_closed_pipe_keeps_the_runs_status(broken: Path, closed_pipe: int) -> None:
    proc = run("validate", str(broken), stdout=subprocess.PIPE, stderr=closed_pipe)
    assert proc.returncode == 1 and proc.stdout == b"5 valid, 0 invalid, 1 unreadable\n"
    proc = run("show", "--table", str(broken), stdout=subprocess.PIPE, stderr=closed_pipe)
    assert proc.returncode == 1 and proc.stdout.count(b"\n") == 6  # the header and five events
    with open("/dev/full", "wb") as full:
        assert run("validate", str(broken), stdout=full, stderr=closed_pipe).returncode == 74


def test_validate_quiet_says_where_the_unreadable_lines_are(broken: Path) -> None:
    proc = run("validate", "-q", str(broken))
    assert proc.returncode == 1
    assert proc.stdout.decode() == "5 valid, 0 invalid, 1 unreadable\n"
    [line] = proc.stderr.decode().splitlines()
    assert line.startswith(f"vevents: {broken}:3:") and "truncated JSON" in line


def test_show_and_stats_say_where_the_unreadable_lines_are(broken: Path) -> None:
    for args in (("show",), ("show", "--table"), ("show", "--format", "json"), ("stats",)):
        result = invoke(*args, str(broken))
        assert result.exit_code == 1, args
        [line] = result.stderr.splitlines()
        assert line.startswith(f"vevents: {broken}:3:") and "truncated JSON" in line, args
