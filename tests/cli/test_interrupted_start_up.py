"""Ctrl-C or SIGTERM while vevents is still importing its own modules: the run ends with the
signal's status, quietly, never with a traceback. An import hook in front of the real console
entry point makes the signal land inside the import every time."""

from __future__ import annotations

import subprocess
import sys

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
