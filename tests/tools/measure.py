"""One command measured as a child process: exit code, output, wall and CPU seconds, peak RSS.

Shared by bench/hostile.py (which prints the figures) and tests/cli/test_memory_bounds.py (which
asserts memory bounds on hostile input). A helper interpreter runs the command, so that
`RUSAGE_CHILDREN` counts the command alone (with `generator`, a Python snippet whose
stdout feeds the command's stdin), never this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

HELPER = r"""
import json, resource, subprocess, sys, time
command, generator = json.loads(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
if generator:
    gen = subprocess.Popen([sys.executable, "-c", generator], stdout=subprocess.PIPE)
    proc = subprocess.run(command, stdin=gen.stdout, capture_output=True)
    gen.stdout.close()
    gen.wait()
else:
    proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": proc.returncode, "seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak": usage.ru_maxrss * 1024, "stdout": proc.stdout.decode("utf-8", "replace"),
                  "stderr": proc.stderr.decode("utf-8", "replace")}))
"""


def measured(command: list[str], generator: str = "", timeout: float = 600) -> dict[str, Any]:
    """`command`'s exit code, stdout, stderr, wall and CPU seconds and peak RSS in bytes (Linux)."""
    proc = subprocess.run(
        [sys.executable, "-c", HELPER, json.dumps(command), generator], capture_output=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace"))
    return json.loads(proc.stdout)  # type: ignore[no-any-return]
