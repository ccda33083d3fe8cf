"""Architecture rules, checked black-box through the real CLI (subprocesses, mostly).

1. One way in: every reading command in every format gives byte-identical stdout, the same
   stderr lines and exit code with VEVENTS_JOBS=1, 2 and 3, on a >16 MiB NDJSON log with a
   cut first line, cut lines at chunk edges and garbage; nothing is lost (each bad line is
   one unreadable item at its own line, every other line an event).
2. No orphans: `| head -1` (which ends every command with 141), captured stderr, SIGINT and
   SIGTERM leave no process behind.
3. Unknown types never select a file: a 300-character type, `../defs`, a traversal to a
   planted schema: never applied, never a traceback.
4. Payload text never drives the terminal: control characters, OSC sequences and rich markup
   in every summarised field, through panels, the table, stats and listen, on a real
   terminal (pty) and piped.
5. One exit path: one error line per unreadable input, usage errors 2, a bug 70 with one line.
(Import cycles and documentation: tests/unit/test_structure.py.)
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import REPO, clean_env, command_line, invoke, listener, popen, run, sh
from vevents_cli import samples
from vevents_cli.pipeline import parallel
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

CHUNK = parallel.CHUNK  # the chunk size of the parallel path (a cut falls before a `{` line)
TARGET = 17 * 1024 * 1024  # above the 16 MiB threshold of the parallel path
TIMEOUT = 120
SIGNATURE = "ab" * 32
BASE_ENV = {"COLUMNS": "120", "LINES": "40", "PYTHONPATH": str(REPO)}  # on the clean environment (tests.helpers)
TRACEBACK = "Traceback (most recent call last)"
# One xdist worker runs the module: the >16 MiB log is built once and each run of it
# (`run_on`, cached) serves every test that reads it.
pytestmark = pytest.mark.xdist_group("black_box_rules")


def cli(
    *args: str,
    jobs: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    run_env = {**BASE_ENV, **(env or {})}
    if jobs is not None:
        run_env["VEVENTS_JOBS"] = jobs
    return run(
        *args,
        timeout=timeout,
        cwd=cwd,
        env=run_env,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


# === 1. differential: chunked runs are serial runs, nothing is lost =================================


class Log:
    """A >16 MiB NDJSON log built from the samples, with bad lines planted where they hurt."""

    def __init__(self, path: Path, lines: int, bad: list[int]) -> None:
        self.path, self.lines, self.bad = path, lines, sorted(bad)

    @property
    def good(self) -> set[int]:
        return set(range(1, self.lines + 1)) - set(self.bad)


def build_log(path: Path, cut_first: bool) -> Log:
    """All 72 types in three dialects; a cut line at the first line of several 4 MiB chunks
    (where today's chunker cuts: the first line starting at or after start + 4 MiB), a line of
    garbage, and (cut_first) a first line cut mid-value inside an array."""
    dialects = ("v2024", "distribution", "legacy")
    out: list[bytes] = []
    bad: list[int] = []
    offset = chunk_start = 0

    def add(line: bytes, is_bad: bool = False) -> None:
        nonlocal offset
        out.append(line)
        offset += len(line) + 1
        if is_bad:
            bad.append(len(out))

    if cut_first:
        add(b'{"id": "whs_cut_first", "type": "voucher.published", "data": {"tags": ["a", "b",', True)
    i = 0
    while offset < TARGET:
        if offset >= chunk_start + CHUNK:
            chunk_start = offset
            if len(bad) - cut_first < 3:
                add(b'{"id": "whs_cut_%d", "data": {"a": [1, 2,' % len(bad), True)
                continue
        etype = SCHEMA_TYPES[i % len(SCHEMA_TYPES)]
        payload = samples.sample(etype, dialects[(i // len(SCHEMA_TYPES)) % 3])
        payload["id"] = f"{payload['id'].split('_')[0]}_{i:08d}"
        add(orjson.dumps(payload))
        i += 1
        if i == 2500:
            add(b"garbage: this line is not JSON at all", True)
    path.write_bytes(b"\n".join(out) + b"\n")
    return Log(path, len(out), bad)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Log]:
    folder = tmp_path_factory.mktemp("logs")
    return {"big": build_log(folder / "big.ndjson", cut_first=True)}


_RUNS: dict[tuple[Any, ...], tuple[int, bytes, list[bytes], dict[str, bytes]]] = {}


def run_on(log: Log, args: tuple[str, ...], jobs: str, tmp: Path) -> tuple[int, bytes, list[bytes], dict[str, bytes]]:
    """(exit code, stdout, stderr lines, files written) of one run, cached for the module.

    Runs from a folder of its own with the log given by its bare name, so that locators and
    messages are the same in every run; `split` writes into ./out of that folder."""
    key = (str(log.path), args, jobs)
    if key not in _RUNS:
        cwd = tmp / f"run-{len(_RUNS)}"
        cwd.mkdir()
        (cwd / log.path.name).symlink_to(log.path)
        proc = cli(*args, log.path.name, jobs=jobs, cwd=cwd)
        assert TRACEBACK not in proc.stderr.decode(errors="replace"), proc.stderr.decode(errors="replace")[-3000:]
        out = cwd / "out"
        tree = (
            {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
            if out.is_dir()
            else {}
        )
        _RUNS[key] = (proc.returncode, proc.stdout, proc.stderr.splitlines(), tree)
    return _RUNS[key]


COMMANDS: list[tuple[str, ...]] = [
    ("show", "--format", "json"),
    ("show", "--table"),
    ("show",),
    ("validate",),
    ("validate", "-q"),
    ("validate", "--format", "json"),
    ("validate", "--format", "junit"),
    ("validate", "--format", "github"),
    ("stats",),
    ("stats", "--format", "json"),
    ("ledger",),
    ("ledger", "--format", "json"),
    ("redact", "--salt", "x"),
    ("split", "--out", "out"),
    ("verify", "--secret", "s", "--signature", SIGNATURE),
]
ALSO_THREE = {("show", "--format", "json"), ("validate", "--format", "json")}


def _differential_cases() -> Iterator[Any]:
    for args in COMMANDS:
        yield pytest.param("big", args, id="big-" + "_".join(a.strip("-") for a in args))


@pytest.mark.heavy  # 2-3 runs of each command on the 17 MiB log (the parallel path starts at 16 MiB)
@pytest.mark.parametrize(("which", "args"), list(_differential_cases()))
def test_parallel_run_matches_serial(
    logs: dict[str, Log], tmp_path_factory: pytest.TempPathFactory, which: str, args: tuple[str, ...]
) -> None:
    log = logs[which]
    tmp = tmp_path_factory.getbasetemp()
    serial = run_on(log, args, "1", tmp)
    assert serial[0] == 1, f"{args}: unreadable lines must give exit 1, got {serial[0]}"
    for jobs in ("2", "3") if args in ALSO_THREE else ("2",):
        other = run_on(log, args, jobs, tmp)
        where = f"{' '.join(args)} with VEVENTS_JOBS={jobs} vs 1"
        assert other[0] == serial[0], f"{where}: exit code {other[0]} != {serial[0]}"
        if other[1] != serial[1]:
            a, b = serial[1].splitlines(), other[1].splitlines()
            first = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            pytest.fail(
                f"{where}: stdout differs ({len(a)} vs {len(b)} lines); first difference at stdout line "
                f"{first + 1}: {a[first : first + 1]!r:.300} vs {b[first : first + 1]!r:.300}"
            )
        assert sorted(other[2]) == sorted(serial[2]), f"{where}: stderr lines differ"
        if serial[3] or other[3]:
            assert sorted(other[3]) == sorted(serial[3]), f"{where}: split wrote other files"
            assert other[3] == serial[3], f"{where}: split wrote other contents"


@pytest.mark.heavy  # (its runs are test_parallel_run_matches_serial's, cached)
@pytest.mark.parametrize("which", ["big"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_nothing_lost(logs: dict[str, Log], tmp_path_factory: pytest.TempPathFactory, which: str, jobs: str) -> None:
    """events + unreadable == non-blank lines; each bad line is one unreadable item at its own
    line; every other line is an event (in validate's JSON and in show's NDJSON)."""
    log = logs[which]
    tmp = tmp_path_factory.getbasetemp()
    name = log.path.name
    _, out, _, _ = run_on(log, ("validate", "--format", "json"), jobs, tmp)
    doc = orjson.loads(out)
    summary = doc["summary"]
    assert summary["events"] + summary["unreadable"] == log.lines, (
        f"{summary} does not account for the {log.lines} lines of {name}"
    )
    assert sorted(u["line"] for u in doc["unreadable"]) == log.bad, doc["unreadable"][:5]
    assert {e["line"] for e in doc["events"]} == log.good
    code, out, err, _ = run_on(log, ("show", "--format", "json"), jobs, tmp)
    lines = [orjson.loads(line)["line"] for line in out.splitlines()]
    missing = sorted(log.good - set(lines))
    assert not missing, f"show --format json lost {len(missing)} events, from line {missing[0]}"
    assert sorted(lines) == sorted(log.good), "show --format json printed an event twice or at a bad line"
    reported = sorted(
        int(m.group(1))
        for line in err
        if (m := re.match(rb"vevents: " + re.escape(name.encode()) + rb":(\d+)[:\s]", line))
    )
    assert reported == log.bad, f"stderr: {err[:6]}"
    assert code == 1


# === 2. no orphans ===================================================================================


def _holders(path: Path) -> dict[int, str]:
    """Command lines of the processes (not this one) that mention path (unique to this test run)."""
    needle = str(path).encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:200]
            found[int(entry.name)] = shown
    return found


def _assert_gone(path: Path, grace: float = 2.0) -> None:
    deadline = time.monotonic() + grace
    while (left := _holders(path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:  # ours (the log's path is this run's): do not leave them to the next test
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes still running {grace} s after the command ended: {left}"


def _communicate(proc: subprocess.Popen[bytes], log: Log, timeout: float, what: str) -> bytes:
    """stderr of proc; a left-behind child holding the pipes open makes this time out: then
    the processes of this run are killed (by pid) and the test fails."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        left = _holders(log.path)
        for pid in [proc.pid, *left]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        pytest.fail(f"{what}: did not end within {timeout} s (pipes held open by: {left})")
    return err


@pytest.mark.heavy  # on the 17 MiB log; the default suite has tests/cli/test_hangs.py's quick versions
@pytest.mark.parametrize("which", ["big"])
def test_no_orphans_after_head(logs: dict[str, Log], which: str) -> None:
    log = logs[which]
    proc = sh(
        f"{command_line('show', str(log.path), '--format', 'json')} | head -1",
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        timeout=TIMEOUT,
        env={**BASE_ENV, "VEVENTS_JOBS": "2"},
    )
    assert proc.stdout.count(b"\n") <= 1
    _assert_gone(log.path)


@pytest.mark.heavy  # on the 17 MiB log; the default suite has tests/cli/test_hangs.py's quick versions
@pytest.mark.parametrize("which", ["big"])
@pytest.mark.parametrize(
    "args", [("show",), ("show", "--table"), ("validate", "--format", "json"), ("redact",)], ids=" ".join
)
def test_head_on_a_parallel_run_ends_with_141_and_no_process(
    logs: dict[str, Log], which: str, args: tuple[str, ...]
) -> None:
    """`| head -1` on a parallel run: the status of a closed pipe (141, not rich's 1, not 0), no
    traceback, no line about it, and no worker left behind."""
    log = logs[which]
    proc = popen(
        *args,
        str(log.path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**BASE_ENV, "VEVENTS_JOBS": "2"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    err = _communicate(proc, log, TIMEOUT, f"`{' '.join(args)} | head -1`").decode(errors="replace")
    assert proc.returncode == 141
    assert TRACEBACK not in err and "cannot write" not in err and "internal error" not in err
    _assert_gone(log.path)


@pytest.mark.heavy  # on the 17 MiB log; the default suite has tests/cli/test_hangs.py's quick versions
@pytest.mark.parametrize("which", ["big"])
def test_no_orphans_with_stderr_captured(logs: dict[str, Log], which: str) -> None:
    """A worker left behind would hold the stderr pipe open: communicate() would hang."""
    log = logs[which]
    proc = subprocess.Popen(
        ["sh", "-c", f"{command_line('show', str(log.path), '--format', 'json')} | head -1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env({**BASE_ENV, "VEVENTS_JOBS": "2"}),
    )
    err = _communicate(proc, log, 15, "`show | head -1` with stderr captured")
    assert TRACEBACK not in err.decode(errors="replace")
    _assert_gone(log.path)


@pytest.mark.heavy  # on the 17 MiB log; the default suite has tests/cli/test_hangs.py's quick versions
@pytest.mark.parametrize("which", ["big"])
@pytest.mark.parametrize(
    ("signum", "codes"),
    [(signal.SIGINT, (130, -signal.SIGINT)), (signal.SIGTERM, (143, -signal.SIGTERM))],
    ids=["SIGINT", "SIGTERM"],
)
def test_signal_leaves_no_process(logs: dict[str, Log], which: str, signum: int, codes: tuple[int, ...]) -> None:
    log = logs[which]
    proc = popen(
        "validate", str(log.path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**BASE_ENV, "VEVENTS_JOBS": "2"}
    )
    time.sleep(0.5)
    deadline = time.monotonic() + 20  # a loaded machine may still be starting: wait for the workers
    while len(_holders(log.path)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    err = _communicate(proc, log, 15, f"validate after {signal.Signals(signum).name}")
    text = err.decode(errors="replace")
    assert proc.returncode != 0, "a signal (or the unreadable lines) must give a non-zero exit"
    # 1: it finished before the signal arrived (the log has unreadable lines)
    assert proc.returncode in (*codes, 1), f"exit {proc.returncode}: {text[-500:]}"
    assert TRACEBACK not in text and "KeyboardInterrupt" not in text, text[-2000:]
    _assert_gone(log.path)


# === 3. unknown types never select a file =============================================================


PUBLISHED = samples.sample("voucher.published")
LEGACY = samples.sample("voucher.published", "legacy")


def _validate_json(path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
    proc = cli("validate", "--format", "json", *extra, str(path))
    text = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    assert TRACEBACK not in text, text[-3000:]
    return proc, orjson.loads(proc.stdout)


def test_unknown_v2024_type_with_a_long_name(tmp_path: Path) -> None:
    long_type = "a" * 300 + ".b"
    path = tmp_path / "long.ndjson"
    path.write_bytes(
        b"\n".join(orjson.dumps(p) for p in (PUBLISHED, {**PUBLISHED, "type": long_type}, PUBLISHED)) + b"\n"
    )
    for args in (("validate",), ("validate", "--strict"), ("show",), ("show", "--table"), ("show", "--format", "json")):
        proc = cli(*args, str(path))
        text = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        assert TRACEBACK not in text and "File name too long" not in text, f"{args}: {text[-2000:]}"
        expected = 1 if args[0] == "validate" else 0  # show marks invalid events, exits 0 (all read)
        assert proc.returncode == expected, f"{args}: exit {proc.returncode}"
        if args[0] == "validate":
            assert "unknown" in text or "not one of" in text, f"{args}: the output must say the type is unknown"
        if args == ("validate",):  # (--strict: the vendor's v2024 envelope refuses the sample's own type too)
            assert text.rstrip().endswith("2 valid, 1 invalid, 0 unreadable"), text[-300:]
    _, doc = _validate_json(path)
    assert [e["valid"] for e in doc["events"]] == [True, False, True]


def _legacy(related_type: str, data: Any = None) -> dict[str, Any]:
    payload = orjson.loads(orjson.dumps(LEGACY))
    payload["data"]["related_object"]["type"] = related_type
    if data is not None:
        payload["data"]["object"] = data
        payload["data"]["related_object"]["data"] = data
    return payload


def test_legacy_related_type_never_selects_a_file(tmp_path: Path) -> None:
    """`../defs` must be treated like any unknown type: under --strict an error; by default
    not silently valid (README: an unknown type is checked for its envelope only, and the
    output says so), and never better than the same payload under a harmless unknown name."""
    for name in ("../defs", "../envelope/legacy", "../../legacy/defs"):
        path = tmp_path / "legacy.ndjson"
        path.write_bytes(b"\n".join(orjson.dumps(p) for p in (PUBLISHED, _legacy(name), LEGACY)) + b"\n")
        strict, doc = _validate_json(path, "--strict")
        assert doc["events"][1]["valid"] is False, f"{name!r} is valid under --strict: a schema file was selected"
        assert strict.returncode == 1
        text = cli("validate", "--strict", str(path))
        assert b"unknown event type" in text.stdout + text.stderr
        default = cli("validate", str(path))
        said = (default.stdout + default.stderr).decode(errors="replace")
        _, doc = _validate_json(path)
        assert doc["summary"]["events"] == 3
        assert doc["events"][1]["valid"] is False or "unknown event type" in said, (
            f"{name!r} reported valid with no word of an unknown type: a schema file was selected\n{said}"
        )
        control = tmp_path / "control.ndjson"
        control.write_bytes(orjson.dumps(_legacy("voucher.teleported")) + b"\n")
        _, control_doc = _validate_json(control)
        assert doc["events"][1]["valid"] == control_doc["events"][0]["valid"]


def test_traversal_to_a_planted_schema(tmp_path: Path) -> None:
    """A schema that accepts anything, planted outside the bundle, reachable by `..` from any
    level's data/ folder; the data fits no real type."""
    (tmp_path / "evil.json").write_text("{}")
    junk = {"x": 1}
    events: list[dict[str, Any]] = [PUBLISHED]
    for level in ("default", "legacy", "strict"):
        rel = os.path.relpath(tmp_path / "evil", REPO / "schemas" / level / "data")
        events.append({**PUBLISHED, "type": rel, "data": junk})
        distribution = samples.sample("voucher.published", "distribution")
        distribution["event"]["type"] = rel
        distribution["data"] = junk
        events.append(distribution)
        events.append(_legacy(rel, junk))
    events.append(LEGACY)
    path = tmp_path / "traversal.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(p) for p in events) + b"\n")
    for extra in ((), ("--strict",)):
        _proc, doc = _validate_json(path, *extra)
        assert doc["summary"]["events"] == len(events) and doc["summary"]["unreadable"] == 0
        if not extra:  # (--strict: the vendor's envelopes refuse the samples' own types)
            assert doc["events"][0]["valid"] and doc["events"][-1]["valid"]
        said = cli("validate", *extra, str(path))
        text = (said.stdout + said.stderr).decode(errors="replace")
        for event in doc["events"][1:-1]:
            silently_valid = event["valid"] and not (event["dialect"] == "legacy" and not extra)
            assert not silently_valid, f"{' '.join(extra)} line {event['line']} ({event['dialect']}): valid"
            if event["valid"]:  # legacy, default level: envelope only, and said so
                assert f"{path}:{event['line']} " in text and "unknown event type" in text, text[-1500:]
        for args in (("show",), ("show", "--table")):
            shown = cli(*args, *extra, str(path))
            assert TRACEBACK not in shown.stderr.decode(errors="replace")
            assert shown.returncode == 0  # show marks invalid events; it fails only on unreadable input


# === 4. payload text never drives the terminal =======================================================


CONTROL = "\x1b]0;TITLE\x07\x1b[2J\x1b[31m\x9b1m\x7f\x08\r\x00x"
MARKUP = "[/]"
POISONS = [CONTROL, MARKUP, "[bold]x", "[link=https://evil.test]x[/link]", "\x1b]8;;https://evil.test\x07x\x1b]8;;\x07"]
POISON_KEYS = {"name", "email", "source_id", "code", "status", "result", "id", "reason", "phone"}
SGR = re.compile(rb"\x1b\[[0-9;]*m")
# C0 but \n and \t (the piped table's own column separator: a tab from a payload is escaped), DEL, C1 (UTF-8)
BAD_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def _poison(value: Any, text: str) -> Any:
    if isinstance(value, dict):
        return {k: (text if k in POISON_KEYS and isinstance(v, str) else _poison(v, text)) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, text) for v in value]
    return value


POISONED_TYPES = [
    "voucher.published",
    "customer.order.paid",
    "redemption.succeeded",
    "customer.rewarded",
    "customer.segment.entered",
    "customer.loyalty.tier.upgraded",
    "customer.voucher.loyalty_card.points_added",
    "campaign.created",
]


def poisoned_events(text: str) -> list[dict[str, Any]]:
    """Samples with `text` in every summarised string field (and the envelope's own)."""
    out = []
    for etype in POISONED_TYPES:
        for dialect in ("v2024", "distribution", "legacy"):
            payload = _poison(samples.sample(etype, dialect), text)
            payload["created_at"] = text
            if dialect == "distribution":
                payload["type"] = text  # the distribution's (custom) name
            if dialect == "legacy":
                payload["data"]["previous_attributes"] = {"name": text, "status": text}
            out.append(payload)
    out.append({**samples.sample("voucher.published"), "type": text})  # the event type itself
    out.append(_poison(samples.sample("voucher.published", "legacy"), text) | {"type": text})
    return out


def _terminal_safe(data: bytes, where: str) -> None:
    rest = SGR.sub(b"", data)
    assert b"\x1b]8;" not in data, f"{where}: an OSC 8 hyperlink reached the terminal"
    bad = BAD_BYTES.search(rest)
    if bad is not None:
        context = rest[max(0, bad.start() - 80) : bad.end() + 40]
        pytest.fail(f"{where}: raw control byte {bad.group()!r} at {bad.start()}: {context!r}")
    text = data.decode(errors="replace")
    assert TRACEBACK not in text and "MarkupError" not in text, f"{where}: {text[-2000:]}"


def _openpty() -> tuple[int, int]:
    """A pseudo-terminal that passes output through as written (no \\n -> \\r\\n)."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


def _run_in_pty(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, bytes, bytes]:
    """Run `vevents ARGS` with stdout on a pseudo-terminal (rich sees a terminal); stderr piped."""
    master, slave = _openpty()
    try:
        proc = popen(*args, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env)
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed its side
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                continue
        else:
            proc.kill()
            pytest.fail(f"{args} in a pty did not finish within {timeout} s")
        err = proc.stderr.read() if proc.stderr else b""
        proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, b"".join(chunks), err


PTY_ENV = {**BASE_ENV, "TERM": "xterm-256color", "COLUMNS": "120"}


@pytest.mark.parametrize(
    "args",
    [("show",), ("show", "--table"), ("stats",), ("ledger",), ("ledger", "--card", "STAR-7Q2K")],
    ids=["panels", "table", "stats", "ledger", "timeline"],
)
def test_payload_text_never_drives_the_terminal(tmp_path: Path, args: tuple[str, ...]) -> None:
    """One log holds every poison (control, close-tag, bold, link, OSC 8), each in its own events."""
    path = tmp_path / "poisoned.ndjson"
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for text in POISONS for p in poisoned_events(text)))
    for mode in ("pty", "pipe"):
        if mode == "pty":
            code, out, err = _run_in_pty([*args, str(path)], PTY_ENV)
        else:
            proc = cli(*args, str(path), env={"TERM": "xterm-256color"})
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        where = f"{' '.join(args)} ({mode})"
        assert code in (0, 1), f"{where}: exit {code}: {err.decode(errors='replace')[-1500:]}"
        _terminal_safe(out, where + " stdout")
        _terminal_safe(err, where + " stderr")
        if args == ("show",):
            plain = SGR.sub(b"", out).decode(errors="replace")
            for text in (MARKUP, "[bold]x"):
                assert text in plain, f"{where}: the payload's {text!r} is not shown as it is"


def test_poisoned_file_name(tmp_path: Path) -> None:
    """The file name reaches every locator: it is text from outside too."""
    path = tmp_path / "log[bold]x\x1b]0;TITLE\x07\x1b[2J.ndjson"
    path.write_bytes(orjson.dumps(PUBLISHED) + b"\n{broken\n")
    for args in (("show",), ("show", "--table"), ("validate",)):
        code, out, err = _run_in_pty([*args, str(path)], PTY_ENV)
        assert code == 1
        _terminal_safe(out, f"{args} stdout")
        _terminal_safe(err, f"{args} stderr")


def test_markup_and_control_property() -> None:
    pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(
        [
            "\x1b",
            "\x07",
            "\r",
            "\x08",
            "\x9b",
            "\x7f",
            "\x00",
            "\x1b]0;T\x07",
            "\x1b[2J",
            "[",
            "]",
            "/",
            "[/]",
            "[bold]",
            "[link=https://evil.test]",
            "[/link]",
            "\\",
            "x",
            " ",
            ":",
            "é",
            "\u202e",
        ]
    )
    texts = st.lists(pieces, min_size=1, max_size=12).map("".join)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(texts)
    def check(text: str) -> None:
        events = poisoned_events(text)[::5]
        body = b"".join(orjson.dumps(p) + b"\n" for p in events)
        for args in (("show",), ("show", "--table"), ("stats",)):
            result = invoke(*args, input=body)
            assert result.exit_code in (0, 1), (args, result.stderr[-1000:])
            _terminal_safe(result.stdout.encode(), f"{args} stdout")
            _terminal_safe(result.stderr.encode(), f"{args} stderr")

    check()


def test_listen_echo_never_drives_the_terminal(tmp_path: Path) -> None:
    import http.client

    payload = orjson.loads(orjson.dumps(PUBLISHED))
    payload["data"]["customer"]["email"] = "\x1b]0;TITLE\x07\x1b[2J"
    payload["data"]["customer"]["name"] = "[/]"
    payload["data"]["voucher"]["code"] = "[link=https://evil.test]x[/link]"
    master, slave = _openpty()
    out = b""
    try:
        with listener(stdout=slave, env=PTY_ENV) as srv:
            os.close(slave)
            proc = srv.proc
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            conn.request("POST", "/", body=orjson.dumps(payload), headers={"Content-Type": "application/json"})
            assert conn.getresponse().status == 200
            conn.close()
            deadline = time.monotonic() + 10
            while b"voucher.published" not in out and time.monotonic() < deadline:
                if select.select([master], [], [], 0.2)[0]:
                    out += os.read(master, 65536)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=15)
            while select.select([master], [], [], 0.2)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                out += data
    finally:
        os.close(master)
    assert b"voucher.published" in out, out[-1000:]
    _terminal_safe(out, "listen stdout")
    assert TRACEBACK not in err.decode(errors="replace")


# === 5. one exit path ===================================================================================


LOCATED = re.compile(r"^vevents: (?P<source>.+?):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<reason>\S.*)$")


def test_missing_file_is_one_error_line(tmp_path: Path) -> None:
    for args in (("show",), ("show", "--format", "json"), ("validate",), ("stats",)):
        proc = cli(*args, "nonexistent-file", cwd=tmp_path)
        lines = proc.stderr.decode().splitlines()
        assert proc.returncode == 1, f"{args}: exit {proc.returncode}"
        assert len(lines) == 1, f"{args}: stderr {lines}"
        assert lines[0] == "vevents: nonexistent-file: no such file or folder", lines[0]  # a source, no line


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (
        ("show", "--bogus"),
        ("validate", "--format", "yaml"),
        ("show", "--as", "no.such.type", "-"),
        ("nosuchcommand",),
        ("sample", "voucher.teleported"),
    ):
        proc = cli(*args, cwd=tmp_path, input=b"")
        assert proc.returncode == 2, f"{args}: exit {proc.returncode}"
        assert TRACEBACK not in proc.stderr.decode(errors="replace")


def test_internal_error_is_one_line_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recognise = pytest.importorskip("vevents_cli.pipeline.recognise")
    from vevents_cli.cli import app as cli_module  # (the console script ends the process with os._exit)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(recognise, "recognise", boom, raising=False)
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["show", str(REPO / "samples" / "voucher.published.json")])
    assert exit_info.value.code == 70
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("vevents: internal error:") and "boom" in lines[0], lines[0]
    assert "report" in lines[0].lower(), "the line must ask the user to report the error"
    assert "Traceback" not in err
