"""Reading input: every shape a source may hold, and every way it can be unreadable."""

from __future__ import annotations

import gzip
import os
import pty
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import invoke, ndjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        proc = subprocess.run(
            [sys.executable, "-m", "vevents_cli", "show"], stdin=secondary, capture_output=True, timeout=60
        )
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
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["id", "type", "data", "object", "source", "event", "related_object", "customer",
                         "voucher", "balance", "transaction", "created_at", "name", "x"]),
        children,
        max_size=6,
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "type", "data", "object", "source", "event", "created_at"]),
                       JSON, max_size=7))
def test_recognise_and_summarise_never_raise_on_random_json(payload: dict) -> None:
    from vevents_cli.model import Locator
    from vevents_cli.pipeline.summarise import summarise
    from vevents_cli.pipeline.validate import SchemaSet

    record = Record(Locator("<fuzz>", 1), orjson.dumps(payload), payload)
    event = recognise(record)
    verdict = SchemaSet().check(event)
    summary = summarise(event, verdict)
    assert summary.event.dialect in ("v2024", "distribution", "legacy", "bare")
    assert verdict.valid in (True, False)
