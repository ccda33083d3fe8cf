"""Golden digests of vevents' outputs: every reading command and format, on fixed inputs.

    python scripts/golden_outputs.py                      # the samples and a small log (default suite)
    python scripts/golden_outputs.py --heavy              # also the bench's 30,000-event logs
    python scripts/golden_outputs.py --vevents "/work/venv-before/bin/vevents" --heavy

Runs each case of `CASES` on each input of `INPUTS` (`--heavy`: also `HEAVY_INPUTS`) as a
whole process, serially (VEVENTS_JOBS=1), in the inputs' folder (so sources are named
alike everywhere), stdin from /dev/null, in the test suite's clean environment, and writes
the SHA-256 of its stdout and of its stderr, and its exit status, to
tests/cli/golden_outputs.json (merged with what is there). tests/cli/test_identical_outputs.py
runs the same cases with the program under test, serially and on two workers, and wants
the same digests: a speed-up never changes a byte. Regenerate the digests only when an
output is meant to change (with the version that makes the change, and say so in its commit).

The logs are the bench's (`bench/bench.py`): a small mixed log here, the 30,000-event mixed
and all-invalid logs with `--heavy` (cached in bench/out/).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "cli" / "golden_outputs.json"
SMALL_EVENTS = 600
HEAVY_EVENTS = 30_000

# case name -> arguments before the input
CASES: dict[str, tuple[str, ...]] = {
    "validate": ("validate",),
    "validate-q": ("validate", "-q"),
    "validate-strict": ("validate", "--strict"),
    "validate-json": ("validate", "--format", "json"),
    "validate-json-only-invalid": ("validate", "--format", "json", "--only-invalid"),
    "validate-junit": ("validate", "--format", "junit"),
    "validate-github": ("validate", "--format", "github"),
    "validate-expect-invalid": ("validate", "--expect", "invalid", "--format", "json"),
    "show": ("show",),
    "show-table": ("show", "--table"),
    "show-table-raw": ("show", "--table", "--raw"),
    "show-json": ("show", "--format", "json"),
    "show-json-raw": ("show", "--format", "json", "--raw"),
    "show-json-strict": ("show", "--format", "json", "--strict"),
    "stats": ("stats",),
    "stats-all": ("stats", "--all"),
    "stats-json": ("stats", "--format", "json"),
    "ledger": ("ledger",),
    "ledger-json": ("ledger", "--format", "json"),
    "redact": ("redact", "--salt", "golden"),
}
# the bench logs: the commands the bench measures, and their neighbours
HEAVY_CASES = (
    "validate",
    "validate-q",
    "validate-json",
    "validate-github",
    "show-table",
    "show-json",
    "stats-json",
    "ledger-json",
)


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vevents_bench", REPO / "bench" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pool(out: Path | None = None) -> tuple[ModuleType, list[dict[str, object]], list[bytes], str]:
    """The bench module (its logs cached in `out`, else bench/out), its pool of events, their
    lines and the pool's digest."""
    b: Any = bench()  # its module globals are set here
    if out is not None:
        b.OUT, b.REPO = out, Path(out.anchor)  # the bench names its logs relative to REPO
    b.OUT.mkdir(parents=True, exist_ok=True)
    events = b.pool()
    lines = [b.orjson.dumps(e) for e in events]
    return b, events, lines, hashlib.sha256(b"\n".join(lines)).hexdigest()[:10]


def small_log(folder: Path) -> Path:
    """A mixed log of SMALL_EVENTS events (the bench's), with two broken lines."""
    b, _, lines, digest = pool(folder)
    log = b.build_log("mixed", lines, SMALL_EVENTS, digest)
    data = log.path.read_bytes().split(b"\n")
    data[10:10] = [b'{"id": "whs_broken", "data": ']
    data[700:700] = [b"not json at all"]
    target = folder / "small.ndjson"
    target.write_bytes(b"\n".join(data))
    return target


def heavy_logs(folder: Path, vevents: list[str]) -> list[Path]:
    """The bench's 30,000-event mixed and all-invalid logs, linked into `folder`."""
    b, events, lines, digest = pool()
    bad = b.invalid_pool(events, vevents, digest)
    out = []
    for kind, drawn in (("mixed", lines), ("invalid", bad)):
        log = b.build_log(kind, drawn, HEAVY_EVENTS, digest)
        link = folder / f"{kind}-{HEAVY_EVENTS}.ndjson"
        link.unlink(missing_ok=True)
        link.symlink_to(log.path)
        out.append(link)
    return out


def inputs(folder: Path, heavy: bool, vevents: list[str]) -> dict[str, Path]:
    """Input name -> its path in `folder` (the samples folder is linked there)."""
    samples = folder / "samples"
    if not samples.exists():
        samples.symlink_to(REPO / "samples")
    found = {"samples": samples, "small": small_log(folder)}
    if heavy:
        mixed, invalid = heavy_logs(folder, vevents)
        found.update(mixed=mixed, invalid=invalid)
    return found


def cases_of(name: str) -> tuple[str, ...]:
    return HEAVY_CASES if name in ("mixed", "invalid") else tuple(CASES)


def digest(stdout: bytes, stderr: bytes, status: int) -> dict[str, object]:
    return {
        "stdout": hashlib.sha256(stdout).hexdigest(),
        "stderr": hashlib.sha256(stderr).hexdigest(),
        "exit": status,
    }


def run_case(
    vevents: list[str], args: tuple[str, ...], target: Path, jobs: int, env: dict[str, str]
) -> dict[str, object]:
    proc = subprocess.run(
        [*vevents, *args, target.name],
        cwd=target.parent,
        env={**env, "VEVENTS_JOBS": str(jobs)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=600,
    )
    return digest(proc.stdout, proc.stderr, proc.returncode)


def key(input_name: str, case: str) -> str:
    return f"{input_name}/{case}"


def clean_env() -> dict[str, str]:
    sys.path.insert(0, str(REPO))
    from tests.helpers.cli import clean_env as clean
    from tests.helpers.cli import cleaning

    return clean({**cleaning()})


def main(argv: list[str] | None = None, progress: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vevents", default=f"{sys.executable} -m vevents_cli", help="the program (%(default)s)")
    parser.add_argument("--heavy", action="store_true", help="also the bench's 30,000-event logs")
    parser.add_argument("--out", type=Path, default=GOLDEN)
    args = parser.parse_args(argv)
    vevents = shlex.split(args.vevents)
    golden: dict[str, object] = json.loads(args.out.read_text()) if args.out.exists() else {}
    env = clean_env()
    folder = REPO / "bench" / "out" / "golden"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, target in inputs(folder, args.heavy, vevents).items():
        for case in cases_of(name):
            golden[key(name, case)] = run_case(vevents, CASES[case], target, 1, env)
            progress(f"{key(name, case)}: {golden[key(name, case)]}")
    args.out.write_text(json.dumps(dict(sorted(golden.items())), indent=1) + "\n")


if __name__ == "__main__":
    main()
