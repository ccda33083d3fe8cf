"""Long-running CLI children: `vevents listen` on an ephemeral port, `vevents show --follow`.

Each is a context manager that starts the real CLI (`popen`, a clean environment) and, on the
way out, kills the child if the test has not stopped it.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tests.helpers.cli import Env, interruptible, popen

BANNER = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/")


def first_line(stream: IO[bytes] | None) -> str:
    """The first line of a child's output, read unbuffered: `communicate` then gets all the rest."""
    assert stream is not None
    line = b""
    while not line.endswith(b"\n") and (byte := os.read(stream.fileno(), 1)):
        line += byte
    return line.decode()


@contextmanager
def stopped_at_exit(proc: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    """`proc`, killed (and reaped) when the block ends if it is still running."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@dataclass
class Listener:
    proc: subprocess.Popen[bytes]
    port: int
    banner: str  # the first line on stderr


@contextmanager
def listener(
    *args: str,
    env: Env | None = None,
    stdout: int | IO[Any] = subprocess.PIPE,
    preexec_fn: Callable[[], None] = interruptible,
) -> Iterator[Listener]:
    """`vevents listen --port 0 ARGS` (COLUMNS=250 unless `env` says otherwise), once its banner
    has given the port it listens on."""
    proc = popen(
        "listen",
        "--port",
        "0",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={"COLUMNS": "250", **(env or {})},
        preexec_fn=preexec_fn,
    )
    with stopped_at_exit(proc):
        banner = first_line(proc.stderr)
        m = BANNER.search(banner)
        assert m, banner
        yield Listener(proc, int(m.group(1)), banner)


@contextmanager
def follower(path: Path, *args: str, env: Env | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`vevents show --follow PATH ARGS`, stdout and stderr piped."""
    proc = popen("show", "--follow", str(path), *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    with stopped_at_exit(proc):
        assert proc.stdout and proc.stderr
        yield proc
