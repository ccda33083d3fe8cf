"""Shared test helpers: the CLI runner, vendor reference data (skipped when absent)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts import vendor  # noqa: E402
from vevents_cli.cli.app import status_of  # noqa: E402

NO_VENDOR = "../shared/vendor/voucherify not present: vendor conformance tests skipped"
needs_vendor = pytest.mark.skipif(not vendor.available(), reason=NO_VENDOR)


def vendor_examples() -> list[tuple[str, dict[str, Any]]]:
    return vendor.examples() if vendor.available() else []


def legacy_examples() -> list[tuple[str, dict[str, Any]]]:
    return vendor.legacy_examples() if vendor.available() else []


@dataclass
class Result:
    exit_code: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace").replace("\r\n", "\n")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace").replace("\r\n", "\n")

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run the real CLI in-process, through its one exit path (`status_of`, as `main` does)."""
    runner = CliRunner()
    with runner.isolation(input=input, env=env) as streams:
        status = status_of(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
    out, err = streams[0], streams[1]
    return Result(int(status), out.getvalue(), err.getvalue())


def ndjson(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def write_ndjson(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))
    return path


def interruptible() -> None:
    """`preexec_fn` for a child that a test stops with SIGINT: a shell may start test runs
    in the background with SIGINT ignored, and children inherit that."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def read_pty(leader: int) -> bytes:
    """Everything written to a pseudo-terminal until its other side closes; closes `leader`."""
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty closed: the process is done
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    return seen
