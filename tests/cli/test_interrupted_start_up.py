"""Ctrl-C or SIGTERM while vevents is still importing its own modules: the run ends with the
signal's status, quietly, never with a traceback. An import hook in front of the real console
entry point makes the signal land inside the import every time."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import REPO, clean_env

HOOK = """
import builtins, importlib, sys
from vevents_cli.cli import main
module, signal_name = sys.argv[1:]
def interrupting(real):
    def hooked(name, *args, **kwargs):
        if name == module:
            builtins.__import__, importlib.import_module = real_import, real_import_module
            if signal_name == "SIGTERM":  # what the app's handler raises (the handler is set by then)
                from vevents_cli.cli.app import Terminated
                raise Terminated()
            raise KeyboardInterrupt()
        return real(name, *args, **kwargs)
    return hooked
real_import, real_import_module = builtins.__import__, importlib.import_module
builtins.__import__, importlib.import_module = interrupting(real_import), interrupting(real_import_module)
main(["validate", "samples/voucher.published.json"])
"""


@pytest.mark.parametrize(
    ("module", "signal_name", "status", "env"),
    [
        ("vevents_cli.cli.app", "SIGINT", 130, {}),  # before the app's signal handlers are set
        ("vevents_cli.output.stdio", "SIGTERM", 143, {}),  # the console script's first import
        # while the command's modules are imported: the fast path's, and Typer's
        ("vevents_cli.cli.validating", "SIGINT", 130, {}),
        ("vevents_cli.cli.validating", "SIGTERM", 143, {}),
        ("vevents_cli.model", "SIGTERM", 143, {}),
        ("vevents_cli.cli.validate", "SIGINT", 130, {"VEVENTS_NO_FAST": "1"}),
        ("vevents_cli.cli.validate", "SIGTERM", 143, {"VEVENTS_NO_FAST": "1"}),
    ],
)
def test_a_signal_during_start_up_is_its_status_without_a_traceback(
    module: str, signal_name: str, status: int, env: dict[str, str]
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", HOOK, module, signal_name],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=60,
    )
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == "", proc.stderr


@pytest.mark.heavy
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_at_a_random_moment_of_start_up_never_crashes(signal_name: str) -> None:
    """The real signal, at random moments of the first 0.3 s: never a crash of a native module
    (orjson and jsonschema-rs are loaded with signals held back), never a traceback through
    vevents' own code. A signal before Python itself could set any handler ends the process
    by that signal (negative status), as for any program; one during the interpreter's own
    start or the import of the package's first module is Python's to report."""
    sig = getattr(signal, signal_name)
    rng = random.Random(7)
    bad = []
    for _ in range(60):
        proc = subprocess.Popen(
            [sys.executable, "-m", "vevents_cli", "validate", "samples/"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=clean_env({"PYTHONFAULTHANDLER": "1"}),
        )
        time.sleep(rng.uniform(0.02, 0.3))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        stderr = err.decode("utf-8", "replace")
        ours = re.search(r"vevents_cli/(cli|pipeline|output|voucherify|webhooks)/", stderr)  # past the entry point
        if proc.returncode not in (0, 128 + sig, -sig) or ours or "Panic" in stderr:
            bad.append((proc.returncode, stderr[-400:]))
    assert not bad, bad
