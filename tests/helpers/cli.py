"""The real CLI, run in-process (`invoke`) or as a subprocess (`run`, `popen`, `sh`), always in a
clean, fixed environment.

Whatever the shell that starts the suite exports, vevents sees the same variables:
`clean_environment()` (called once per test session by tests/conftest.py, and by
tests/tools/fuzz.py) removes colour (NO_COLOR, FORCE_COLOR, COLORTERM, TTY_*), size (COLUMNS,
LINES), TERM, locale (LC_*, LANG), VEVENTS_* settings, shell-completion requests (*_COMPLETE),
VOUCHERIFY_WEBHOOK_SECRET and PYTHONDONTWRITEBYTECODE from os.environ, then sets `FIXED`. A test that needs one of them
passes it to the runner in `env` (a value of None removes a variable), or sets it with
`monkeypatch` for the test's duration.
"""

from __future__ import annotations

import os
import resource
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from vevents_cli.cli.app import status_of

CLEARED = frozenset(
    {
        "NO_COLOR",
        "FORCE_COLOR",
        "COLORTERM",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
        "COLUMNS",
        "LINES",
        "TERM",
        "LANG",
        "LANGUAGE",
        "VOUCHERIFY_WEBHOOK_SECRET",
        # children cache their bytecode as Python does by default: with this exported by the shell,
        # each of the suite's hundreds of CLI children would compile vevents anew (~0.1 s each)
        "PYTHONDONTWRITEBYTECODE",
    }
)
FIXED = {"TERM": "xterm", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
VEVENTS = [sys.executable, "-m", "vevents_cli"]

Env = Mapping[str, str | None]


def _steers(name: str) -> bool:
    return name in CLEARED or name.startswith(("VEVENTS_", "LC_")) or name.endswith("_COMPLETE")


def cleaning() -> dict[str, str | None]:
    """What `clean_environment` changes in os.environ: every steering variable removed, then FIXED."""
    return {**{k: None for k in os.environ if _steers(k)}, **FIXED}


def clean_environment() -> None:
    """Remove from os.environ every variable that steers vevents' output, then set FIXED."""
    for name, value in cleaning().items():
        if value is None:
            del os.environ[name]
        else:
            os.environ[name] = value


def clean_env(env: Env | None = None) -> dict[str, str]:
    """The whole environment of a child process: os.environ (clean) with `env` applied."""
    merged: dict[str, str | None] = {**os.environ, **(env or {})}
    return {k: v for k, v in merged.items() if v is not None}


# --- in-process -----------------------------------------------------------------------------------


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


def invoke(*args: str, input: bytes | str | None = None, env: Env | None = None) -> Result:
    """Run the real CLI in-process, through its one exit path (`status_of`, as `main` does)."""
    runner = CliRunner()
    with runner.isolation(input=input, env=dict(env or {})) as streams:
        status = status_of(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
    out, err = streams[0], streams[1]
    return Result(int(status), out.getvalue(), err.getvalue())


# --- subprocesses -----------------------------------------------------------------------------------


def interruptible() -> None:
    """`preexec_fn` for a child that a test stops with SIGINT: a shell may start test runs
    in the background with SIGINT ignored, and children inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def full_disk(size: int, env: Env | None = None) -> dict[str, Any]:
    """`run`/`popen`/`listener` keyword arguments for a child on a "full disk": files past `size`
    bytes cannot be written (the write fails with EFBIG, no signal; SIGINT acts). The child
    caches no bytecode: under the limit Python renames a cut-short .pyc into place (its
    bytecode writer ignores a short write) and every later import of that module fails."""

    def limit() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return {"preexec_fn": limit, "env": {**(env or {}), "PYTHONDONTWRITEBYTECODE": "1"}}


def command(*args: str) -> list[str]:
    """`python -m vevents_cli ARGS`, with this interpreter."""
    return [*VEVENTS, *args]


def command_line(*args: str) -> str:
    """The same, quoted for a shell (`sh`)."""
    return shlex.join(command(*args))


def run(*args: str, env: Env | None = None, timeout: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """`vevents ARGS` as a child process, to its end; stdout and stderr captured unless redirected."""
    if not {"stdout", "stderr", "capture_output"} & kwargs.keys():
        kwargs["capture_output"] = True
    kwargs.setdefault("stdin", None if "input" in kwargs else subprocess.DEVNULL)
    return subprocess.run(command(*args), env=clean_env(env), timeout=timeout, **kwargs)


def popen(*args: str, env: Env | None = None, **kwargs: Any) -> subprocess.Popen[Any]:
    """`vevents ARGS` started as a child process that SIGINT stops (see `interruptible`)."""
    kwargs.setdefault("preexec_fn", interruptible)
    return subprocess.Popen(command(*args), env=clean_env(env), **kwargs)


def sh(script: str, env: Env | None = None, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """A shell pipeline (`command_line(...) + " | head -1"`) in the same clean environment."""
    if not {"stdout", "stderr", "capture_output"} & kwargs.keys():
        kwargs["capture_output"] = True
    return subprocess.run(["sh", "-c", script], env=clean_env(env), timeout=timeout, **kwargs)
