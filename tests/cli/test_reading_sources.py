"""Reading input: every shape a source may hold, and every way it can be unreadable."""

from __future__ import annotations

import gzip
import json
import os
import pty
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO, invoke, ndjson, run
from vevents_cli import samples
from vevents_cli.model import Record, Unreadable
from vevents_cli.pipeline.recognise import recognise
from vevents_cli.pipeline.records import read_lines

PUBLISHED = samples.sample("voucher.published")
POINTS = samples.sample("customer.voucher.loyalty_card.points_added")


def line(obj: object) -> bytes:
    return orjson.dumps(obj) + b"\n"


def show_json(*paths: str, input: bytes | None = None):
    result = invoke("show", "--format", "json", *paths, input=input)
    return result, ndjson(result.stdout)


# --- the shapes of a source ----------------------------------------------------------------


def test_one_object_from_stdin_is_one_event() -> None:
    result, events = show_json(input=orjson.dumps(PUBLISHED, option=orjson.OPT_INDENT_2))
    assert result.exit_code == 0
    assert [(e["source"], e["line"], e["type"]) for e in events] == [("<stdin>", 1, "voucher.published")]


def test_ndjson_locators_name_each_line(tmp_path: Path) -> None:
    log = tmp_path / "hooks.ndjson"
    log.write_bytes(line(PUBLISHED) + b"\n" + line(POINTS) + b"   \n" + line(PUBLISHED))
    result, events = show_json(str(log))
    assert result.exit_code == 0
    assert [(e["line"], e["type"]) for e in events] == [
        (1, "voucher.published"),
        (3, "customer.voucher.loyalty_card.points_added"),
        (5, "voucher.published"),
    ]


def test_array_members_carry_their_index_and_line(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_bytes(orjson.dumps([PUBLISHED, POINTS], option=orjson.OPT_INDENT_2))
    result, events = show_json(str(path))
    assert result.exit_code == 0
    assert [e["index"] for e in events] == [0, 1]
    assert events[0]["line"] == 2 and events[1]["line"] > events[0]["line"]


def test_concatenated_pretty_values_are_separate_events(tmp_path: Path) -> None:
    pretty = orjson.dumps(PUBLISHED, option=orjson.OPT_INDENT_2) + b"\n"
    path = tmp_path / "captures.json"
    path.write_bytes(pretty + pretty)
    _result, events = show_json(str(path))
    first_lines = pretty.count(b"\n")
    assert [e["line"] for e in events] == [1, first_lines + 1]


def test_gzip_and_bom_are_read_transparently(tmp_path: Path) -> None:
    path = tmp_path / "log.ndjson.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + line(PUBLISHED) + line(POINTS)))
    result, events = show_json(str(path))
    assert result.exit_code == 0 and len(events) == 2


def test_folders_are_recursed_for_event_files_only(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.json").write_bytes(line(PUBLISHED))
    (tmp_path / "a" / "b" / "two.jsonl").write_bytes(line(POINTS))
    (tmp_path / "a" / "b" / "three.ndjson.gz").write_bytes(gzip.compress(line(POINTS)))
    (tmp_path / "a" / "notes.txt").write_text("not an event")
    result, events = show_json(str(tmp_path))
    assert result.exit_code == 0
    assert sorted(Path(e["source"]).name for e in events) == ["one.json", "three.ndjson.gz", "two.jsonl"]


def test_no_input_at_a_terminal_is_a_usage_error() -> None:
    primary, secondary = pty.openpty()
    try:
        proc = run("show", stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert proc.returncode == 2
    assert b"pipe JSON in" in proc.stderr
    assert b"Traceback" not in proc.stderr


# --- unreadable input: one clear line, the rest still processed, exit 1 -----------------------

BAD_LINES = {
    "truncated": (b'{"id": "whs_1", "data": {', "truncated JSON"),
    "trailing comma": (b'{"id": "whs_1",}', "trailing comma"),
    "nan": (b'{"amount": NaN}', "NaN and Infinity"),
    "infinity": (b'{"amount": -Infinity}', "NaN and Infinity"),
    "beyond a double": (b'{"amount": 1e400}', "infinity when parsed as double"),
    "309 digits": (b'{"amount": ' + b"9" * 309 + b"}", "infinity when parsed as double"),
    "invalid utf-8": (b'{"name": "\xff\xfe"}', "invalid UTF-8"),
    "deep nesting": (b"[" * 5000 + b"]" * 5000, "nesting too deep"),
    "scalar": (b"42", "expected a JSON object"),
}


@pytest.mark.parametrize("case", BAD_LINES, ids=list(BAD_LINES))
def test_bad_line_in_ndjson_is_reported_and_the_rest_is_shown(tmp_path: Path, case: str) -> None:
    bad, reason = BAD_LINES[case]
    log = tmp_path / "mixed.ndjson"
    log.write_bytes(line(PUBLISHED) + bad + b"\n" + line(POINTS))
    result, events = show_json(str(log))
    assert result.exit_code == 1
    assert [e["line"] for e in events] == [1, 3]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"vevents: {log}:2")
    assert reason in errors[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty input"),
        (b"  \n\n ", "empty input"),
        (b"\x00\x01\x02binary\x00garbage" * 50, "binary data"),
        (gzip.compress(line(PUBLISHED))[:12], "gzip"),
        (b'{\n  "id": "whs_1",\n  "data": {\n', "truncated JSON"),
    ],
    ids=["empty", "blank", "binary", "truncated-gzip", "truncated-pretty"],
)
def test_unreadable_file_gives_one_line_and_other_files_still_shown(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = tmp_path / "good.json"
    good.write_bytes(line(PUBLISHED))
    result, events = show_json(str(bad), str(good))
    assert result.exit_code == 1
    assert [Path(e["source"]).name for e in events] == ["good.json"]
    assert reason in result.stderr
    assert result.stderr.startswith(f"vevents: {bad}:")
    assert "Traceback" not in result.stderr


def test_truncated_gzip_keeps_the_events_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(gzip.compress(line(PUBLISHED) * 400)[:-40])
    result, events = show_json(str(path))
    assert result.exit_code == 1
    assert len(events) > 100
    assert "truncated or corrupt gzip data" in result.stderr


def test_missing_file_and_broken_link(tmp_path: Path) -> None:
    (tmp_path / "link.json").symlink_to(tmp_path / "gone.json")
    result, events = show_json(str(tmp_path / "missing.json"), str(tmp_path / "link.json"))
    assert result.exit_code == 1 and events == []
    assert result.stderr.count("no such file") == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_bytes(line(PUBLISHED))
    path.chmod(0)
    result, _ = show_json(str(path))
    assert result.exit_code == 1 and "cannot open" in result.stderr


def test_input_files_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "hook.json"
    path.write_bytes(line(PUBLISHED) + b"{oops\n")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    invoke("show", str(path))
    invoke("validate", str(path))
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --- property-based: nothing escapes the reader or the recogniser ---------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_reader_never_raises_on_random_bytes(data: bytes) -> None:
    items = list(read_lines("<fuzz>", iter(data.splitlines(keepends=True))))
    assert all(isinstance(i, (Record, Unreadable)) for i in items)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "data",
                    "object",
                    "source",
                    "event",
                    "related_object",
                    "customer",
                    "voucher",
                    "balance",
                    "transaction",
                    "created_at",
                    "name",
                    "x",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)  # (the fuzz campaign, tests/tools/fuzz.py, runs far more)
@given(
    st.dictionaries(
        st.sampled_from(["id", "type", "data", "object", "source", "event", "created_at"]), JSON, max_size=7
    )
)
def test_recognise_and_summarise_never_raise_on_random_json(payload: dict) -> None:
    from vevents_cli.model import Locator
    from vevents_cli.pipeline.check import SchemaSet
    from vevents_cli.pipeline.summarise import summarise

    record = Record(Locator("<fuzz>", 1), orjson.dumps(payload), payload)
    event = recognise(record)
    verdict = SchemaSet().check(event)
    summary = summarise(event, verdict)
    assert summary.event.dialect in ("v2024", "distribution", "legacy", "bare")
    assert verdict.valid in (True, False)


# --- recovery at line edges: a cut line is one unreadable item, never joined to the next -------


def event_log(n: int = 2000) -> list[bytes]:
    """A realistic NDJSON log: every type in turn, in all three envelope dialects."""
    from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

    dialects = ("v2024", "distribution", "legacy")
    return [orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], dialects[i % 3])) for i in range(n)]


def cut(line: bytes, where: str) -> bytes:
    """`line` cut the way a crashed writer leaves it."""
    if where == "after a comma in an array":
        start = line.index(b"[{")
        return line[: line.index(b",", start) + 1]
    if where == "after a colon":
        return line[: line.index(b'"data":') + len(b'"data":')]
    if where == "inside a string":
        return line[: line.index(b'"created_at":"') + 20]
    if where == "inside a number":
        return line[: line.index(b'"amount":') + len(b'"amount":') + 2]
    raise AssertionError(where)


CUTS = ["after a comma in an array", "after a colon", "inside a string", "inside a number"]
FORMS = ["ndjson", "json", "stdin", "ndjson.gz", "json.gz", "stdin.gz"]


@pytest.mark.parametrize("where", CUTS)
@pytest.mark.parametrize("form", FORMS)
def test_a_cut_first_line_is_reported_and_every_other_line_is_read(tmp_path: Path, form: str, where: str) -> None:
    lines = event_log(400)  # ~1.5 MB: past `records.WHOLE_FILE`, so the line reader reads it
    first = next(i for i, text in enumerate(lines) if b"[{" in text and b'"amount":' in text)
    lines = [lines[first], *lines[:first], *lines[first + 1 :]]  # a line with an array of objects first
    lines[0] = cut(lines[0], where)
    data = b"\n".join(lines) + b"\n"
    if form.endswith(".gz"):
        data = gzip.compress(data)
    path = tmp_path / f"hooks.{form}"
    path.write_bytes(data)
    stdin = form.startswith("stdin")
    result, events = show_json(*(() if stdin else (str(path),)), input=data if stdin else None)
    name = "<stdin>" if stdin else str(path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"vevents: {name}:1: truncated JSON: this line ends mid-value"]
    assert [e["line"] for e in events] == list(range(2, 401))


def test_a_cut_line_followed_by_blank_lines_and_one_in_the_middle(tmp_path: Path) -> None:
    lines = event_log(300)
    lines[0] = cut(lines[0], "after a colon")
    lines[150] = cut(lines[150], "inside a string")
    path = tmp_path / "hooks.json"
    path.write_bytes(lines[0] + b"\n\n\n" + b"\n".join(lines[1:]) + b"\n")
    result, events = show_json(str(path))
    assert result.stderr.splitlines() == [
        f"vevents: {path}:1: truncated JSON: this line ends mid-value",
        f"vevents: {path}:153: truncated JSON: this line ends mid-value",
    ]
    assert len(events) == 298 and events[0]["line"] == 4


def test_pretty_values_still_span_lines_in_a_source_not_known_as_ndjson(tmp_path: Path) -> None:
    pretty = orjson.dumps(PUBLISHED, option=orjson.OPT_INDENT_2)
    array = orjson.dumps([POINTS, PUBLISHED], option=orjson.OPT_INDENT_2)
    path = tmp_path / "captures.json"
    path.write_bytes(pretty + b"\n" + array + b"\n" + line(POINTS) + pretty.replace(b"\n", b"\r\n") + b"\n")
    result, events = show_json(str(path))
    assert result.exit_code == 0, result.stderr
    assert [(e["type"], e["index"]) for e in events] == [
        ("voucher.published", None),
        ("customer.voucher.loyalty_card.points_added", 0),
        ("voucher.published", 1),
        ("customer.voucher.loyalty_card.points_added", None),
        ("voucher.published", None),
    ]


def test_the_recovery_rule_is_written_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## What it reads", 1)[1].split("\n## ", 1)[0]
    for words in ("known to be NDJSON", ".jsonl", "cut line", "--max-value-size", "64M"):
        assert words in section, words


# --- one line for a top-level value that is not an event ---------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"[]", "empty array: no events"),
        (b"null", "top-level value is null"),
        (b"42", "top-level value is a number"),
        (b'"whs_1"', "top-level value is a string"),
        (b"[\n]", "empty array: no events"),
    ],
)
def test_a_top_level_value_that_is_not_an_event_is_one_line(tmp_path: Path, text: bytes, reason: str) -> None:
    path = tmp_path / "hook.json"
    path.write_bytes(text + b"\n")
    good = tmp_path / "good.json"
    good.write_bytes(line(PUBLISHED))
    for command in (("show",), ("validate",), ("stats",)):
        result = invoke(*command, str(path), str(good))
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            f"vevents: {path}:1: {reason}, expected a JSON object"
            if "top-level" in reason
            else f"vevents: {path}:1: {reason}"
        ]


# --- captured requests: a Content-Length that is not ASCII digits --------------------------------

READING_COMMANDS = [
    ("show",),
    ("show", "--format", "json"),
    ("show", "--table"),
    ("show", "--raw"),
    ("validate",),
    ("validate", "--format", "json"),
    ("validate", "--format", "junit"),
    ("validate", "--format", "github"),
    ("validate", "-q"),
    ("stats",),
    ("stats", "--format", "json"),
    ("ledger",),
    ("ledger", "--format", "json"),
    ("redact",),
    ("verify", "--secret", "s3cret"),
    ("split", "--out", "{out}"),
    ("send", "http://127.0.0.1:9/", "--secret", "s3cret"),  # the good request: connection refused
]


@pytest.mark.parametrize(
    "length",
    ["\u00b2", "\u0662", "12\u00b3", "-5", "0x10", " "],
    ids=["superscript", "arabic-indic", "mixed", "negative", "hex", "blank"],
)
@pytest.mark.parametrize("command", READING_COMMANDS, ids=lambda c: " ".join(c))
def test_a_content_length_that_is_not_a_number_is_a_clear_error(
    tmp_path: Path, command: tuple[str, ...], length: str
) -> None:
    body = orjson.dumps(PUBLISHED)
    good = b"POST /hooks HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    bad = good.replace(
        b"Content-Length: %d" % len(body),
        b"Content-Length: " + length.encode("latin-1", "replace")
        if length.isascii() or ord(max(length)) < 256
        else b"Content-Length: " + length.encode(),
    )
    path = tmp_path / "capture.http"
    path.write_bytes(bad + b"\r\n" + good)
    args = [arg.replace("{out}", str(tmp_path / "out")) for arg in command]
    result = invoke(*args, str(path))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if "-q" not in command and "json" not in command and "junit" not in command and "github" not in command:
        assert f"{path}:1: bad Content-Length" in result.stderr


# --- exact numbers: integers beyond 64 bits ------------------------------------------------------

BIG = 123456789012345678901234567890


def test_integers_beyond_64_bits_are_read_exactly_when_a_run_asks(tmp_path: Path) -> None:
    from vevents_cli import pipeline
    from vevents_cli.pipeline.config import RunConfig

    payload = samples.sample("customer.created")
    payload["data"]["customer"]["metadata"] = {"big": BIG, "negative": -BIG, "u64": 2**64 - 1, "pi": 3.25}
    text = json.dumps(payload).encode()
    path = tmp_path / "big.json"
    path.write_bytes(text + b"\n" + b"[" + text + b"]\n")

    def metadata(config: RunConfig) -> list[dict]:
        return [s.event.payload["data"]["customer"]["metadata"] for s in pipeline.run(config)]

    exact = metadata(RunConfig(inputs=(str(path),), exact_numbers=True, validate=False))
    assert exact == [{"big": BIG, "negative": -BIG, "u64": 2**64 - 1, "pi": 3.25}] * 2
    assert all(type(m["big"]) is int for m in exact)
    fast = metadata(RunConfig(inputs=(str(path),), validate=False))  # orjson's reading: a float, but no crash
    assert fast[0]["big"] == float(BIG) and fast[0]["u64"] == 2**64 - 1
    records = [s.event.record for s in pipeline.run(RunConfig(inputs=(str(path),), validate=False))]
    assert records[0].raw == text and records[1].raw == text  # the bytes stay exact in any case


def test_integers_beyond_64_bits_survive_redact_and_split(tmp_path: Path) -> None:
    payload = samples.sample("customer.created")
    payload["data"]["customer"]["metadata"] = {"big": BIG, "negative": -BIG}
    path = tmp_path / "big.ndjson"
    path.write_bytes(json.dumps(payload).encode() + b"\n")
    redacted = invoke("redact", str(path), "--salt", "s")
    assert redacted.exit_code == 0, redacted.output
    assert f'"big":{BIG}' in redacted.stdout and f'"negative":{-BIG}' in redacted.stdout
    split = invoke("split", str(path), "--out", str(tmp_path / "out"))
    assert split.exit_code == 0, split.output
    (written,) = (tmp_path / "out").rglob("*.json")
    assert f'"big": {BIG}' in written.read_text()


# --- linear: newlines counted once however many members an array has ---------------------------


class CountingBytes(bytes):
    """bytes that add up how many bytes `count` looks at."""

    scanned = 0

    def count(self, sub, start=None, end=None):  # type: ignore[no-untyped-def,override]
        CountingBytes.scanned += (len(self) if end is None else end) - (start or 0)
        return super().count(sub, start, end)


@pytest.mark.parametrize("members", [200, 1000])  # the count bound holds at each size: linear
def test_member_lines_of_a_pretty_array_cost_one_pass(members: int) -> None:
    from vevents_cli.pipeline.records import _members

    events = event_log(members)
    text = CountingBytes(orjson.dumps([orjson.loads(e) for e in events], option=orjson.OPT_INDENT_2))
    CountingBytes.scanned = 0
    spans = list(_members(text, 1))
    assert [orjson.loads(span) for span, _, _ in spans] == [orjson.loads(e) for e in events]
    assert CountingBytes.scanned <= len(text)  # each newline counted once: linear, not members x size
    lines = text.split(b"\n")
    assert all(lines[at - 1].lstrip().startswith(b"{") for _, at, _ in spans)


def test_a_pretty_array_and_concatenated_values_read_every_event(tmp_path: Path) -> None:
    events = [orjson.loads(e) for e in event_log(400)]  # ~3 MB each way: read member by member
    (tmp_path / "array.json").write_bytes(orjson.dumps(events, option=orjson.OPT_INDENT_2))
    (tmp_path / "values.json").write_bytes(b"\n".join(orjson.dumps(e, option=orjson.OPT_INDENT_2) for e in events))
    for name in ("array.json", "values.json"):
        result = invoke("validate", "-q", str(tmp_path / name))
        assert result.stdout.strip() == "400 valid, 0 invalid, 0 unreadable", result.output


# --- property: what is read never depends on how the bytes arrive -------------------------------

PIECES = [
    line(PUBLISHED),
    line(POINTS),
    orjson.dumps(PUBLISHED, option=orjson.OPT_INDENT_2) + b"\n",
    orjson.dumps([POINTS, PUBLISHED], option=orjson.OPT_INDENT_2) + b"\n",
    line(PUBLISHED)[:200] + b"\n",
    b"\n",
    b"\n\n\n",
    b"  \r\n",
    b"{\n",
    b"[\n",
    b"}\n",
    b"null\n",
    b"42\n",
    b"\xef\xbb\xbf",
    b'{"a": "\x00"}\n',
    b"POST /hooks HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\r\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(PIECES) | st.binary(max_size=40), max_size=12),
    st.integers(1, 64),
    st.sampled_from([64, 1000, 64 * 1024 * 1024]),
    st.booleans(),
)
def test_reading_does_not_depend_on_how_the_bytes_arrive(
    pieces: list[bytes], block: int, limit: int, ndjson: bool
) -> None:
    from vevents_cli.pipeline.sources import Splitter

    data = b"".join(pieces)

    def read(size: int) -> list[tuple]:
        splitter = Splitter(limit)
        lines = [item for start in range(0, len(data), size) for item in splitter.feed(data[start : start + size])]
        items = read_lines("<fuzz>", [*lines, *splitter.end()], ndjson=ndjson, limit=limit)
        return [(type(i).__name__, str(i.locator), i.raw, getattr(i, "reason", None)) for i in items]

    assert read(block) == read(max(len(data), 1))


# --- arrays: each member parsed on its own, so a bad member costs only itself ------------------


@pytest.mark.parametrize("layout", ["pretty", "one line"])
def test_a_bad_member_of_an_array_costs_only_itself(tmp_path: Path, layout: str) -> None:
    events = [orjson.loads(e) for e in event_log(6)]
    if layout == "pretty":
        members = [orjson.dumps(e, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ") for e in events]
        text = b"[\n  " + b",\n  ".join(members) + b"\n]\n"
    else:
        members = [orjson.dumps(e) for e in events]
        text = b"[" + b", ".join(members) + b"]\n"
    text = text.replace(members[2], members[2].replace(b'"id":', b'"amount": NaN, "id":', 1))
    text = text.replace(members[4], members[4][:-1] + b",}")  # a trailing comma inside the member
    path = tmp_path / "batch.json"
    path.write_bytes(text)
    result, shown = show_json(str(path))
    assert result.exit_code == 1
    assert [e["index"] for e in shown] == [0, 1, 3, 5]
    errors = result.stderr.splitlines()
    assert len(errors) == 2, errors
    assert "[2]" in errors[0] and "NaN and Infinity" in errors[0]
    assert "[4]" in errors[1] and "trailing comma" in errors[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'[{"id": "whs_1"},]', ["trailing comma is not allowed in JSON"]),
        (b'[{"id": "whs_1"},,{"id": "whs_2"}]', ["invalid JSON: a comma with no value"]),
        (b'[\n  {"id": "whs_1"}\n  {"id": "whs_2"}\n]', ["unexpected text after the JSON value"]),
        (b"[ ]", ["empty array: no events"]),
    ],
)
def test_array_punctuation_errors_are_one_line_each(tmp_path: Path, text: bytes, expected: list[str]) -> None:
    path = tmp_path / "batch.json"
    path.write_bytes(text + b"\n")
    result = invoke("validate", "--as", "voucher.published", str(path))
    errors = result.stderr.splitlines()
    assert len(errors) == len(expected) and all(e in line for e, line in zip(expected, errors, strict=True)), errors


# --- a small file holding one pretty-printed object is read in one go -------------------------


_AFTER = (
    b"",
    b"\n",
    b"\n\n  \n",
    b" \t\n",
    b"\r\n",
    b"\x0c\n",
    b"\n\x0c",
    b"\n{}",
    b" x",
    b'\n{"a": 1}\n',
    b"\n]",
    b"\n  x",
)
_BEFORE = (b"", b"\xef\xbb\xbf", b"\n", b"  ")


def test_a_whole_file_read_gives_what_the_line_reader_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way a small file may hold one object (compact or pretty, CRLF, a BOM, whitespace or
    more after it, an inner line at column 0, an NDJSON name) reads as the line reader reads it."""
    import itertools

    from vevents_cli.pipeline import records
    from vevents_cli.pipeline.sources import expand

    whole_reads = 0
    real = records._whole_object

    def counting(*args: object) -> object:
        nonlocal whole_reads
        found = real(*args)  # type: ignore[arg-type]
        whole_reads += found is not None
        return found

    monkeypatch.setattr(records, "_whole_object", counting)

    def same_as_line_reader(path: Path) -> None:
        source = next(iter(expand([str(path)])))
        whole = list(records.read_source(source))  # type: ignore[arg-type]
        with monkeypatch.context() as patch:
            patch.setattr(records, "WHOLE_FILE", -1)  # every file read line by line
            assert whole == list(records.read_source(source)), path.read_bytes()[-80:]  # type: ignore[arg-type]

    forms = itertools.product(
        ("voucher.published", "customer.voucher.loyalty_card.points_added"),
        (None, 2),
        (False, True),
        _AFTER,
        _BEFORE,
        (False, True),
        ("fixture.json", "fixture.ndjson"),
    )
    for n, (name, indent, crlf, after, before, column0, file_name) in enumerate(forms):
        text = json.dumps(samples.sample(name), indent=indent).encode()
        if column0 and indent:
            text = text.replace(b'\n  "data": {', b'\n"data":\n{', 1)
        if crlf:
            text = text.replace(b"\n", b"\r\n")
        path = tmp_path / f"{n}-{file_name}"
        path.write_bytes(before + text + after)
        same_as_line_reader(path)
    for n, text in enumerate(
        (
            b'{"a":\n1}',
            b'{"a"\n:1}',
            b'{"a": 1\n, "b": 2}',
            b'{"a": [1,\n2]}',
            b'{"a": -\n1}',
            b'{"a": {"b":\n{"c": 1}}}',
            b'{"a": "x\n"}',
            b'{"a":1,\n"b":[\n]\n}',
            b'  {"a":1}',
        )
    ):
        path = tmp_path / f"hand-{n}.json"  # formatted by hand: a line may end after any token
        path.write_bytes(text)
        same_as_line_reader(path)
    assert whole_reads >= 60  # the whole-file read was taken where it applies


def test_a_pretty_fixture_keeps_its_exact_bytes_for_signatures(tmp_path: Path) -> None:
    import hashlib
    import hmac

    body = json.dumps(samples.sample("voucher.published"), indent=2)
    (tmp_path / "payload.json").write_text(body + "\n\n")
    signature = hmac.new(b"s3cret", body.encode(), hashlib.sha256).hexdigest()
    result = invoke("verify", "--secret", "s3cret", "--signature", signature, str(tmp_path / "payload.json"))
    assert result.exit_code == 0, result.stdout + result.stderr
