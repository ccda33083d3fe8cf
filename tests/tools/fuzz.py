"""Fuzzing the reading commands: only vevents' own output, ever.

The property: every reading command (show in each format, validate in each format, stats,
split, redact, verify), run in-process through the CLI's one exit path on any input, ends
with exit status 0, 1 or 2, and prints no traceback and no "internal error" line (status
70 is a bug). Inputs are hypothesis-drawn: realistic payloads (the bundled samples, the
vendor's examples, NDJSON logs, pretty arrays, `listen --save` records) and captured HTTP
requests (Content-Length, chunked, several in a row), with their values replaced or
removed anywhere in the tree (still JSON: other types, huge numbers, control characters)
and their bytes mutated (cut, flipped, control characters, NUL, invalid UTF-8, duplicated
slices, huge numbers, deep nesting, bad Content-Length and chunk sizes), or random bytes; given on stdin or as a
file (.json, .ndjson, .http, gzip).

Two more properties, on the report formats: (names) a sample event in a file whose name is
drawn from hostile bytes (not UTF-8, newlines, `::` workflow commands, `%`, `,`, `:`, control
characters), and (hostile) a sample event whose strings are hostile text, run through every
command and `--format`: besides the above, each machine output parses (JSON and NDJSON with
orjson, JUnit with an XML parser, `--format github` against the workflow-command grammar, split's
fixtures), and no line of any output starts a workflow command but vevents' own annotations.
And (forward) `vevents listen --forward` to a local target that answers badly (random status
lines, huge or conflicting Content-Length, a trickle, redirects, resets, silence) while
deliveries are sent: every delivery is answered, listen never dies and never prints a
traceback, and it ends with its status on SIGINT.

tests/cli/test_fuzz_reading_commands.py runs the property for a bounded number of examples. This script runs
it for as long as asked and prints counts; each failure's input is saved in a folder:

    python -m tests.tools.fuzz --minutes 10 --out fuzz-failures/
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import hmac
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
SECRET = "whsec_fuzz"
LIMIT_SECONDS = 60  # one example on a few KiB: far longer than any run takes, so a hang fails

# name -> arguments; "{out}" is a fresh folder for the example.
COMMANDS: dict[str, tuple[str, ...]] = {
    "show": ("show",),
    "show --raw": ("show", "--raw"),
    "show --table": ("show", "--table"),
    "show --format json": ("show", "--format", "json"),
    "validate": ("validate",),
    "validate -q": ("validate", "-q"),
    "validate --format json": ("validate", "--format", "json"),
    "validate --format junit": ("validate", "--format", "junit"),
    "validate --format github": ("validate", "--format", "github"),
    "validate --strict": ("validate", "--strict"),
    "stats": ("stats",),
    "stats --format json": ("stats", "--format", "json"),
    "ledger": ("ledger",),
    "ledger --format json": ("ledger", "--format", "json"),
    "split": ("split", "--out", "{out}"),
    "split --bare": ("split", "--bare", "--out", "{out}"),
    "redact": ("redact", "--salt", "fuzz", "--metadata"),
    "verify": ("verify",),
}
# How the input is given: on stdin, or as a file with this name.
WAYS = ("stdin", "in.json", "in.ndjson", "in.http", "in.ndjson.gz")

TOKENS = (
    b"\x00",
    b"\x1b[2J\x1b]0;owned\x07",
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\u202e",
    "\u2028".encode(),
    b"\t",
    b"123456789012345678901234567890",
    b"-98765432109876543210987654321",
    b"18446744073709551616",
    b"1e999",
    b"-0.0e-400",
    b"NaN",
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'"data":null',
    b'"type":42',
    b'"created_at":"\xff"',
    b"[" * 300,
    b'{"a":' * 300,
    b"[" * 1100,
    b" " * 5000,
    b"POST /hooks HTTP/1.1\r\n",
    b"HTTP/1.1",
    b"Content-Length: \xc2\xb2\r\n",
    b"Content-Length: -1\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"0\r\n\r\n",
    b"ffffffffffff\r\n",
    b"\r\n\r\n",
)
CONTENT_LENGTHS = (
    b"\xb2",
    b"1\xb9",
    b"\xc2\xb2",
    b"\xd9\xa3",
    b"-1",
    b"",
    b" 7 ",
    b"0x10",
    b"1e3",
    b"5, 5",
    b"99999999999999999999",
    b"0",
    b"+3",
    b"\x00",
)
CHUNK_SIZES = (b"ffffffffffffffff", b"-1", b"", b"zz", b"1;ext=\xff", b"0", b"7fffffffffffffff", b"\xc2\xb2")


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def capture(body: bytes, chunked: bool = False, signature: str | None = None) -> bytes:
    """A captured HTTP request, as `tcpdump`/`nc -l` would have it."""
    head = [
        b"POST /hooks HTTP/1.1",
        b"Host: localhost:8787",
        b"Content-Type: application/json",
        b"X-Voucherify-Signature: " + (signature or sign(body)).encode(),
    ]
    if chunked:
        half = len(body) // 2
        parts = [body[:half], body[half:]]
        wire = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
        return b"\r\n".join([*head, b"Transfer-Encoding: chunked", b"", b""]) + wire
    return b"\r\n".join([*head, b"Content-Length: %d" % len(body), b"", b""]) + body


def saved_delivery(payload: dict[str, Any], body: bytes) -> bytes:
    """A line of a `vevents listen --save` file."""
    return (
        orjson.dumps(
            {
                "received_at": "2026-03-14T09:00:00.000Z",
                "method": "POST",
                "path": "/hooks",
                "headers": {"Content-Type": "application/json", "X-Voucherify-Signature": sign(body)},
                "body": body.decode(),
                "event": payload,
                "status": 200,
            }
        )
        + b"\n"
    )


@dataclass(frozen=True)
class Corpus:
    payloads: tuple[bytes, ...]  # event files and logs
    captures: tuple[bytes, ...]  # captured requests


@functools.cache
def corpus() -> Corpus:
    """The seeds, built once."""
    from vevents_cli import samples
    from vevents_cli.voucherify import catalogue, dialects

    sys.path.insert(0, str(REPO))
    from scripts import vendor

    events = []
    for name in sorted(catalogue.CATALOGUE):
        with contextlib.suppress(KeyError):
            events.append(samples.sample(name))
    events += [samples.sample("customer.rewarded", d) for d in dialects.NAMES]
    vendor_data = [data for _, data in vendor.examples()[:20]] if vendor.available() else []
    legacy = [payload for _, payload in vendor.legacy_examples()] if vendor.available() else []
    payloads = [orjson.dumps(e) for e in events[:40:4]]
    payloads += [orjson.dumps(e, option=orjson.OPT_INDENT_2) for e in events[1:40:8]]
    payloads += [orjson.dumps(d) for d in vendor_data[:6]] + [orjson.dumps(p) for p in legacy[:4]]
    payloads += [
        b"".join(orjson.dumps(e) + b"\n" for e in events[:6]),  # an NDJSON log
        b"".join(orjson.dumps(e) + b"\r\n" for e in events[10:13]),
        orjson.dumps(events[20:23], option=orjson.OPT_INDENT_2),  # a pretty array
        orjson.dumps(events[30:32]) + b"\n",
        orjson.dumps(events[0], option=orjson.OPT_INDENT_2) + b"\n" + orjson.dumps(events[5]),  # concatenated
        b"".join(saved_delivery(e, orjson.dumps(e, option=orjson.OPT_INDENT_2)) for e in events[40:43]),
    ]
    captures = []
    for e in events[:60:6]:
        compact = orjson.dumps(e)
        captures += [capture(compact), capture(orjson.dumps(e, option=orjson.OPT_INDENT_2), signature=sign(compact))]
    captures += [
        capture(orjson.dumps(events[3]), chunked=True),
        capture(b'"  message  "'),
        capture(orjson.dumps(events[7])) + capture(orjson.dumps(events[8]), chunked=True),
    ]
    return Corpus(tuple(payloads), tuple(captures))


# --- mutations ---------------------------------------------------------------------------------------

position = st.integers(0, 1 << 20)
SPECIAL_VALUES: tuple[Any, ...] = (
    None,
    "",
    "2026-13-45T99:99:99Z",
    "not a date",
    -1,
    0,
    10**30,
    -(10**30),
    1e308,
    0.1,
    True,
    [],
    {},
    {"object": "voucher"},
    [None],
    "\x1b[31mred\u202e",
    "voucher.published",
    "../../etc/passwd",
)
json_values = st.one_of(
    st.sampled_from(SPECIAL_VALUES),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
        max_leaves=6,
    ),
)
MUTATION = st.one_of(
    st.tuples(st.just("replace"), position, json_values),  # a value anywhere in the tree: still JSON
    st.tuples(st.just("remove"), position),  # a member or item anywhere in the tree
    st.tuples(st.just("cut"), position),
    st.tuples(st.just("flip"), position, st.integers(1, 255)),
    st.tuples(st.just("insert"), position, st.sampled_from(TOKENS)),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), position, st.integers(1, 64)),
    st.tuples(st.just("duplicate"), position, st.integers(1, 400)),
    st.tuples(st.just("content-length"), st.sampled_from(CONTENT_LENGTHS)),
    st.tuples(st.just("chunk-size"), st.sampled_from(CHUNK_SIZES)),
    st.tuples(st.just("deepen"), st.integers(200, 1100)),
)


def mutate(data: bytes, mutation: tuple[Any, ...]) -> bytes:
    kind: str = mutation[0]
    args: list[Any] = list(mutation[1:])
    at = args[0] % (len(data) + 1) if args and isinstance(args[0], int) and kind != "deepen" else 0
    if kind == "cut":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ args[1]]) + data[at + 1 :] if at < len(data) else data
    if kind == "insert":
        return data[:at] + bytes(args[1]) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + args[1] :]
    if kind == "duplicate":
        return data[: at + args[1]] + data[at:]
    if kind == "content-length":
        start = data.find(b"Content-Length: ")
        if start < 0:
            return data
        end = data.find(b"\r\n", start)
        return data[: start + 16] + bytes(args[0]) + data[end:]
    if kind == "chunk-size":
        start = data.find(b"chunked\r\n\r\n")
        if start < 0:
            return data
        start += 11
        end = data.find(b"\r\n", start)
        return data[:start] + bytes(args[0]) + data[end:]
    if kind in ("replace", "remove"):
        return _tree_mutation(data, at, args[1] if kind == "replace" else _REMOVE)
    if kind == "deepen":  # a value nested N levels deep where the first value starts
        start = data.find(b'":') + 2
        return data[:start] + b"[" * args[0] + b"1" + b"]" * args[0] + b"," + data[start:] if start > 1 else data
    raise ValueError(kind)


_REMOVE = object()


def _tree_mutation(data: bytes, at: int, value: Any) -> bytes:
    """Replace (or remove) the n-th node of the JSON value on the line at byte `at` (n from `at`)."""
    from vevents_cli import jsonout

    start, end = 0, len(data)
    try:
        tree = orjson.loads(data)
    except orjson.JSONDecodeError:  # NDJSON: the line at `at`
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", start) % (len(data) + 1)
        try:
            tree = orjson.loads(data[start:end])
        except orjson.JSONDecodeError:
            return data
    nodes: list[tuple[Any, Any]] = []  # (container, key or index)
    stack = [tree]
    while stack:
        node = stack.pop()
        members = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in members:
            nodes.append((node, key))
            stack.append(child)
    if not nodes:
        return data
    container, key = nodes[at % len(nodes)]
    if value is _REMOVE:
        del container[key]
    else:
        container[key] = value
    return data[:start] + jsonout.dumps(tree) + data[end:]


def mutated(seeds: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    @st.composite
    def draw(draw_: Callable[..., Any]) -> bytes:
        data: bytes = draw_(st.sampled_from(seeds))
        for mutation in draw_(st.lists(MUTATION, min_size=1, max_size=4)):
            data = mutate(data, mutation)
        return data

    return draw()


# --- the property ----------------------------------------------------------------------------------


class Hang(BaseException):
    """An example ran longer than `LIMIT_SECONDS` (a BaseException: nothing in vevents catches it)."""


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    if not hasattr(signal, "SIGALRM"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Outcome:
    status: int
    output: str
    problem: str | None  # None: only vevents' own output


def run_one(invoke: Callable[..., Any], command: str, way: str, data: bytes) -> Outcome:
    """Run `command` on `data` given `way`; what came out, and what is wrong with it."""
    with tempfile.TemporaryDirectory(prefix="vevents-fuzz-") as tmp:
        folder = Path(tmp)
        args = [arg.replace("{out}", str(folder / "out")) for arg in COMMANDS[command]]
        stdin: bytes | None = data
        if way != "stdin":
            path = folder / way
            path.write_bytes(gzip.compress(data, mtime=0) if way.endswith(".gz") else data)
            args.append(str(path))
            stdin = None
        return invoked(invoke, args, stdin)[0]


def invoked(invoke: Callable[..., Any], args: list[str], stdin: bytes | None = None) -> tuple[Outcome, Any]:
    """Run vevents ARGS in-process; what came out, what is wrong with it (a hang, an exit status
    other than 0, 1 or 2, a traceback, an internal error line), and the result (None: a hang)."""
    env = {"VOUCHERIFY_WEBHOOK_SECRET": SECRET, "COLUMNS": "120", "VEVENTS_JOBS": "1"}
    try:
        with time_limit(LIMIT_SECONDS):
            result = invoke(*args, input=stdin, env=env)
    except Hang as exc:
        return Outcome(-1, "", str(exc)), None
    output = result.stdout + result.stderr
    problem = None
    if result.exit_code not in (0, 1, 2):
        problem = f"exit status {result.exit_code}"
    elif "Traceback" in output:
        problem = "a traceback"
    elif "internal error" in output:
        problem = "an internal error line"
    return Outcome(result.exit_code, output, problem), result


def describe(command: str, way: str, data: bytes, outcome: Outcome) -> str:
    tail = "\n".join(outcome.output.splitlines()[-8:])
    return (
        f"vevents {command} ({way}): {outcome.problem}\ninput ({len(data)} bytes): {data[:3000]!r}\n"
        f"output (end):\n{tail}"
    )


# --- report formats: hostile names and payload text ---------------------------------------------------

# name -> (arguments, what its stdout is); "{out}" is a fresh folder for the example.
FORMAT_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "validate": (("validate",), "text"),
    "validate --format json": (("validate", "--format", "json"), "json"),
    "validate --format junit": (("validate", "--format", "junit"), "junit"),
    "validate --format github": (("validate", "--format", "github"), "github"),
    "show": (("show",), "text"),
    "show --table": (("show", "--table"), "text"),
    "show --format json": (("show", "--format", "json"), "ndjson"),
    "stats --format json": (("stats", "--format", "json"), "json"),
    "ledger --format json": (("ledger", "--format", "json"), "json"),
    "verify": (("verify", "--signature", "00"), "text"),
    "verify --format json": (("verify", "--format", "json"), "json"),
    "verify --format github": (("verify", "--format", "github"), "github"),
    "redact": (("redact", "--salt", "fuzz"), "ndjson"),
    "split": (("split", "--out", "{out}"), "fixtures"),
}
NAME_PIECES = (
    b"\xff",
    b"\xc3(",
    b"\xed\xa0\x80",
    b"\n",
    b"\r",
    b"\x1b[31m",
    b"\x07",
    b"\x7f",
    b"\xc2\x9b",
    "\u202e".encode(),
    "\u2028".encode(),
    b"::error::",
    b"::warning file=a,line=1::",
    b"  ::",
    b"%",
    b"%0A",
    b",",
    b":",
    b"&<>\"'",
    b"]]>",
    b"\\",
    b" ",
    b"-",
)
HOSTILE_TEXT = (
    "::error::owned",
    "  ::warning file=x,line=1::owned",
    "\x1b]0;owned\x07\x1b[2J",
    "a\nb\r\nc",
    "\n::error::after a line end",
    "%0A::error::x",
    "100%, a:b",
    "\u202eevil",
    "\u2028::error::x",
    "]]><x/>&amp;",
    "\x00\x01\x0b\x0c\x7f\x85\x9b",
    "\ufffe\uffff",
)
ANNOTATION = re.compile(r"::(error|warning) (file=[^:,\r\n]*,line=\d+(,col=\d+)?,)?title=[^:,\r\n]*::[^\r\n]*")
GITHUB_SUMMARY = re.compile(r"\d+ valid, \d+ invalid, \d+ unreadable.*|\d+ signatures? checked: .*")

names = st.lists(
    st.one_of(st.sampled_from(NAME_PIECES), st.binary(min_size=1, max_size=4)), min_size=1, max_size=5
).map(lambda parts: b"".join(parts).replace(b"/", b"_").replace(b"\x00", b"_")[:150])


def _hostile_event(seed: int, texts: list[str]) -> bytes:
    """A sample event with `texts` put in place of its strings (type included), in turn."""
    from vevents_cli import samples
    from vevents_cli.voucherify import catalogue

    types = sorted(catalogue.CATALOGUE)
    event: Any = None
    for offset in range(len(types)):
        with contextlib.suppress(KeyError):
            event = samples.sample(types[(seed + offset) % len(types)])
            break
    strings: list[tuple[Any, Any]] = []
    stack = [event]
    while stack:
        node = stack.pop()
        members = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in members:
            if isinstance(child, str):
                strings.append((node, key))
            stack.append(child)
    for i, text in enumerate(texts):
        container, key = strings[(seed + i * 7) % len(strings)]
        container[key] = text
    return orjson.dumps(event) + b"\n"


def format_problem(kind: str, out: bytes, err: bytes, folder: Path) -> str | None:
    """What is wrong with a report: a machine output that does not parse, or a line that starts a
    workflow command that is not one of vevents' own annotations."""
    from xml.etree import ElementTree as ET

    try:
        if kind == "json":
            orjson.loads(out)
        elif kind == "ndjson":
            for value in out.splitlines():
                orjson.loads(value)
        elif kind == "junit":
            ET.fromstring(out)
        elif kind == "fixtures":
            for path in folder.rglob("*"):
                if path.is_file():
                    orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, ET.ParseError, UnicodeDecodeError) as exc:
        return f"{kind} output does not parse: {exc}"
    for stream, output in (("stdout", out), ("stderr", err)):
        for line in output.decode("utf-8", "replace").split("\n"):
            if not line.lstrip().startswith("::"):
                continue
            if kind == "github" and stream == "stdout" and ANNOTATION.fullmatch(line):
                continue
            return f"a line of {stream} starts a workflow command: {line[:200]!r}"
    if kind == "github":
        lines = out.decode("utf-8", "replace").splitlines()
        bad = [line for line in lines if not (ANNOTATION.fullmatch(line) or GITHUB_SUMMARY.fullmatch(line))]
        if bad:
            return f"not a workflow command or the summary: {bad[0][:200]!r}"
    return None


def run_format(invoke: Callable[..., Any], command: str, name: bytes, data: bytes) -> Outcome:
    """Run `command` on `data` in a file called `name` (bytes, as a file system has it)."""
    args_, kind = FORMAT_COMMANDS[command]
    with tempfile.TemporaryDirectory(prefix="vevents-fuzz-") as tmp:
        folder = Path(tmp)
        out_folder = folder / "out"
        name = name if name.endswith((b".json", b".ndjson")) else name + b".ndjson"
        path = os.path.join(os.fsencode(folder), name.lstrip(b".") or b"x.json")
        with open(path, "wb") as f:
            f.write(data)
        args = [arg.replace("{out}", str(out_folder)) for arg in args_] + [os.fsdecode(path)]
        outcome, result = invoked(invoke, args)
        if outcome.problem is None:
            problem = format_problem(kind, result.stdout_bytes, result.stderr_bytes, out_folder)
            outcome = Outcome(outcome.status, outcome.output, problem)
    return outcome


# --- the forward path: listen --forward to hostile targets --------------------------------------------

TARGET_BEHAVIOURS = (
    "ok",
    "status-line",
    "huge-length",
    "conflicting-length",
    "trickle",
    "redirect",
    "reset",
    "silence",
    "garbage",
    "close",
    "chunked-bad",
    "no-headers-end",
)


class HostileTarget:
    """A local HTTP target that answers each connection in a random bad way (a thread per connection)."""

    def __init__(self, rng: Any) -> None:
        import socket
        import threading

        self.rng = rng
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stop = threading.Event()
        self.behaviours: Counter[str] = Counter()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        import threading

        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            behaviour = self.rng.choice(TARGET_BEHAVIOURS)
            self.behaviours[behaviour] += 1
            threading.Thread(target=self._answer, args=(conn, behaviour), daemon=True).start()

    def _answer(self, conn: Any, behaviour: str) -> None:
        import socket
        import struct

        rng = self.rng
        try:
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            if behaviour == "ok":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            elif behaviour == "status-line":
                line = rng.choice([b"HTTP/1.1 999 \xff\r\n", b"HTTP/9.9\r\n", b"\x00\x00\r\n", b"HTTP/1.1 abc\r\n"])
                conn.sendall(line + b"Content-Length: 0\r\n\r\n")
            elif behaviour == "huge-length":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nxx" % rng.choice([2**40, 2**63, 10**30]))
            elif behaviour == "conflicting-length":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\nokHTTP/1.1 200")
            elif behaviour == "trickle":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                for _ in range(30):
                    if self.stop.is_set():
                        break
                    conn.sendall(b"x")
                    time.sleep(0.2)
            elif behaviour == "redirect":
                status = rng.choice([b"301 Moved", b"302 Found", b"307 Temporary", b"308 Permanent"])
                conn.sendall(b"HTTP/1.1 " + status + b"\r\nLocation: http://127.0.0.1:9/x\r\nContent-Length: 0\r\n\r\n")
            elif behaviour == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif behaviour == "silence":
                self.stop.wait(rng.choice([1, 3, 6]))
            elif behaviour == "garbage":
                conn.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
            elif behaviour == "chunked-bad":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab")
            elif behaviour == "no-headers-end":
                conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 100_000)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self.server.close()
        self.thread.join(5)


@dataclass
class ForwardRound:
    deliveries: int = 0
    answered: int = 0
    problem: str | None = None
    output: str = ""
    behaviours: Counter[str] = field(default_factory=Counter)


def forward_round(rng: Any, deliveries: int = 20) -> ForwardRound:
    """One `vevents listen --forward` against a hostile target, `deliveries` sent to it, then SIGINT."""
    import http.client
    import subprocess

    from tests.helpers import popen
    from vevents_cli import samples

    result = ForwardRound()
    target = HostileTarget(rng)
    with tempfile.TemporaryDirectory(prefix="vevents-fuzz-listen-") as tmp:
        err_path, out_path = Path(tmp) / "stderr", Path(tmp) / "stdout"
        with open(err_path, "wb") as err, open(out_path, "wb") as out:
            proc = popen(
                "listen", "--port", "0", "--forward", f"http://127.0.0.1:{target.port}/hook",
                "--forward-timeout", rng.choice(["0.5", "1", "2"]),
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env={"VOUCHERIFY_WEBHOOK_SECRET": SECRET, "COLUMNS": "120"},
            )  # fmt: skip
        try:
            port = _listening_port(err_path, proc)
            for i in range(deliveries):
                body = orjson.dumps(samples.sample(rng.choice(["customer.created", "voucher.published"])))
                result.deliveries += 1
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                try:
                    conn.request("POST", "/", body, {"X-Voucherify-Signature": sign(body)})
                    status = conn.getresponse().status
                except OSError as exc:
                    result.problem = f"delivery {i + 1} not answered: {type(exc).__name__}: {exc}"
                    break
                finally:
                    conn.close()
                if status >= 500 or proc.poll() is not None:
                    result.problem = (
                        f"delivery {i + 1}: status {status}, listen {'ended' if proc.poll() is not None else 'running'}"
                    )
                    break
                result.answered += 1
                time.sleep(rng.choice([0, 0, 0.05, 0.2]))
            proc.send_signal(signal.SIGINT)
            ended: int | None = None
            try:
                ended = proc.wait(30)
            except subprocess.TimeoutExpired:
                result.problem = result.problem or "listen did not end within 30 s of SIGINT"
            if ended is not None and ended not in (0, 1, 130) and result.problem is None:
                result.problem = f"listen ended with status {ended}"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            target.close()
            result.behaviours = target.behaviours
            result.output = err_path.read_text("utf-8", "replace") + out_path.read_text("utf-8", "replace")
    if result.problem is None and ("Traceback" in result.output or "internal error" in result.output):
        error = re.search(r"^(\w+(Error|Exception)\b.*|vevents: internal error.*)$", result.output, re.MULTILINE)
        result.problem = f"a traceback or internal error line: {error.group()[:160] if error else '?'}"
    return result


def _listening_port(err_path: Path, proc: Any) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", err_path.read_text("utf-8", "replace"))
        if found:
            return int(found.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"listen did not start: {err_path.read_text('utf-8', 'replace')[:500]}")


# --- the long run ----------------------------------------------------------------------------------


class Campaign:
    """Runs the property repeatedly until a deadline; counts, and keeps the smallest failing inputs."""

    def __init__(self, invoke: Callable[..., Any], out: Path) -> None:
        self.invoke = invoke
        self.out = out
        self.examples: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.failures: dict[tuple[str, str, str], bytes] = {}  # (command, way, problem) -> smallest input
        self.failing_runs = 0
        self.rng = random.Random()
        self.forward = Counter[str]()  # rounds, deliveries, answered
        self.behaviours: Counter[str] = Counter()  # of the hostile forward targets

    def check(self, kind: str, command: str, way: str, data: bytes) -> None:
        outcome = run_one(self.invoke, command, way, data)
        self.examples[command] += 1
        self.kinds[kind] += 1
        self.statuses[outcome.status] += 1
        if outcome.problem is not None:
            first = next((line for line in reversed(outcome.output.splitlines()) if line.strip()), "")
            key = (command, way, f"{outcome.problem}: {first[:200]}")
            if key not in self.failures or len(data) < len(self.failures[key]):
                self.failures[key] = data
                self._save(key, data, outcome)
            raise AssertionError(describe(command, way, data, outcome))

    def check_format(self, kind: str, command: str, name: bytes, data: bytes) -> None:
        outcome = run_format(self.invoke, command, name, data)
        self.examples[command if kind == "names" else f"{command} (hostile text)"] += 1
        self.kinds[kind] += 1
        self.statuses[outcome.status] += 1
        if outcome.problem is not None:
            self._failed((command, f"{kind} {name!r}", outcome.problem.splitlines()[0][:200]), data, outcome)
            raise AssertionError(describe(command, repr(name), data, outcome))

    def _failed(self, key: tuple[str, str, str], data: bytes, outcome: Outcome) -> None:
        if key not in self.failures or len(data) < len(self.failures[key]):
            self.failures[key] = data
            self._save(key, data, outcome)

    def forward_round(self) -> None:
        result = forward_round(self.rng)
        self.forward["rounds"] += 1
        self.forward["deliveries"] += result.deliveries
        self.forward["answered"] += result.answered
        self.behaviours.update(result.behaviours)
        if result.problem is not None:
            self.failing_runs += 1
            at = result.output.find("Traceback")
            excerpt = result.output[at : at + 4000] if at >= 0 else "\n".join(result.output.splitlines()[-20:])
            outcome = Outcome(-2, excerpt, result.problem)
            self._failed(("listen --forward", "deliveries", result.problem[:200]), b"", outcome)

    def _save(self, key: tuple[str, str, str], data: bytes, outcome: Outcome) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(repr(key[:2]).encode() + key[2].encode()).hexdigest()[:12]
        (self.out / f"{digest}.input").write_bytes(data)
        (self.out / f"{digest}.txt").write_text(
            f"vevents {key[0]}  (input given as {key[1]})\n{outcome.problem}\n\n{outcome.output}"
        )

    def round(self, examples: int) -> None:
        corpus_ = corpus()
        inputs = {
            "payload": mutated(corpus_.payloads),
            "capture": mutated(corpus_.captures),
            "random": st.binary(max_size=4000),
        }
        properties = [self._property(kind, strategy, examples) for kind, strategy in inputs.items()]
        properties += [self._names(corpus_.payloads, examples), self._hostile(examples)]
        for prop in properties:
            try:
                prop()
            except AssertionError:
                self.failing_runs += 1
            except Exception as exc:  # hypothesis reports several distinct failures as a group
                self.failing_runs += 1
                print(f"  (hypothesis: {type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
        self.forward_round()

    def _names(self, seeds: tuple[bytes, ...], examples: int) -> Callable[[], None]:
        @settings(**self._settings(examples))
        @given(command=st.sampled_from(sorted(FORMAT_COMMANDS)), name=names, data=st.sampled_from(seeds))
        def prop(command: str, name: bytes, data: bytes) -> None:
            self.check_format("names", command, name, data)

        return prop

    def _hostile(self, examples: int) -> Callable[[], None]:
        @settings(**self._settings(examples))
        @given(
            command=st.sampled_from(sorted(FORMAT_COMMANDS)),
            seed=st.integers(0, 1 << 16),
            texts=st.lists(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12)), min_size=1, max_size=6),
        )
        def prop(command: str, seed: int, texts: list[str]) -> None:
            self.check_format("hostile", command, b"hostile.ndjson", _hostile_event(seed, texts))

        return prop

    @staticmethod
    def _settings(examples: int) -> dict[str, Any]:
        return {
            "max_examples": examples,
            "deadline": None,
            "database": None,
            "derandomize": False,
            "suppress_health_check": list(HealthCheck),
            "phases": (Phase.generate, Phase.shrink),
        }

    def _property(self, kind: str, strategy: st.SearchStrategy[bytes], examples: int) -> Callable[[], None]:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.generate, Phase.shrink),
        )
        @given(command=st.sampled_from(sorted(COMMANDS)), way=st.sampled_from(WAYS), data=strategy)
        def prop(command: str, way: str, data: bytes) -> None:
            self.check(kind, command, way, data)

        return prop

    def report(self, seconds: float) -> str:
        total = sum(self.examples.values())
        lines = [
            f"fuzz: {total} examples in {seconds / 60:.1f} min ({total / max(seconds, 1):.1f}/s); "
            f"{len(self.failures)} distinct failures, {self.failing_runs} failing rounds",
            "  by input: " + ", ".join(f"{k} {n}" for k, n in sorted(self.kinds.items())),
            "  by exit status: " + ", ".join(f"{k}: {n}" for k, n in sorted(self.statuses.items())),
        ]
        lines += [f"  {n:6d}  vevents {command}" for command, n in sorted(self.examples.items())]
        forward = self.forward
        lines.append(
            f"  listen --forward: {forward['rounds']} rounds, {forward['deliveries']} deliveries, "
            f"{forward['answered']} answered; targets: "
            + ", ".join(f"{k} {n}" for k, n in sorted(self.behaviours.items()))
        )
        for (command, way, problem), data in sorted(self.failures.items()):
            lines.append(f"  FAILED vevents {command} ({way}): {problem} -- {len(data)} bytes saved in {self.out}")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="where failing inputs are saved")
    parser.add_argument("--round", type=int, default=50, help="examples per hypothesis run")
    options = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.helpers import clean_environment, invoke

    clean_environment()

    campaign = Campaign(invoke, options.out)
    start = time.monotonic()
    deadline = start + options.minutes * 60
    last = start
    while time.monotonic() < deadline:
        campaign.round(options.round)
        if time.monotonic() - last > 60:
            last = time.monotonic()
            print(campaign.report(last - start).splitlines()[0], file=sys.stderr, flush=True)
    print(campaign.report(time.monotonic() - start))
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
