"""vevents in CI: reports that mean what they say (issue 11).

- `--expect invalid|valid`: every format reports the events that are not as expected;
- a run that finds nothing fails (`--allow-empty` accepts it), stdin with no data too;
- errors are located at the failing member's own line (and column) in pretty fixtures;
- `show` only looks: exit 0 with invalid events, 1 when input is unreadable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import pytest

from tests.helpers import invoke, write_ndjson
from vevents_cli import samples

MARK = 987654321  # a value no sample holds: where it is, the broken member is

# (type, pointer into the payload of a string member): an integer there is invalid
BREAKS = [
    ("voucher.published", "/data/voucher/code"),
    ("customer.rewarded", "/data/campaign/campaign_type"),
    ("customer.voucher.loyalty_card.points_added", "/data/balance/related_object/id"),
    ("redemption.succeeded", "/data/campaign/categories/0/id"),
    ("customer.order.paid", "/data/customer/email"),
    ("campaign.created", "/data/campaign/categories/0/created_at"),
]


def broken(etype: str, pointer: str) -> dict[str, Any]:
    payload = samples.sample(etype)
    node = payload
    *parents, last = pointer.split("/")[1:]
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node[token]
    node[last] = MARK
    return payload


def pretty(payload: Any) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2)


def mark_line(path: Path) -> tuple[int, int]:
    """Line and column of the member holding MARK in a pretty file."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if str(MARK) in line:
            return number, len(line) - len(line.lstrip()) + 1
    raise AssertionError("no mark")


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """Six pretty-printed broken fixtures and one valid one, as a new user's fixture folder."""
    folder = tmp_path / "fx"
    folder.mkdir()
    for i, (etype, pointer) in enumerate(BREAKS):
        (folder / f"broken{i}.json").write_bytes(pretty(broken(etype, pointer)))
    (folder / "valid.json").write_bytes(pretty(samples.sample("voucher.published")))
    return folder


# --- --expect ------------------------------------------------------------------------------------


def test_expect_invalid_junit_fails_exactly_the_valid_fixture(fixtures: Path) -> None:
    result = invoke("validate", "--expect", "invalid", "--format", "junit", str(fixtures))
    assert result.exit_code == 1
    suite = ET.fromstring(result.stdout_bytes)
    cases = suite.findall("testcase")
    assert len(cases) == 7
    failed = [case for case in cases if case.find("failure") is not None]
    assert [case.get("classname") for case in failed] == [str(fixtures / "valid.json")]
    assert failed[0].find("failure").get("message") == "expected invalid, but it is valid"  # type: ignore[union-attr]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "1", "0")
    # the expected failures pass, with what was found in their output
    assert all("/data/" in (case.findtext("system-out") or "") for case in cases if case not in failed)


def test_expect_invalid_github_annotates_exactly_the_valid_fixture(fixtures: Path) -> None:
    result = invoke("validate", "--expect", "invalid", "--format", "github", str(fixtures))
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        f"::error file={fixtures / 'valid.json'},line=1,title=voucher.published::expected invalid, but it is valid"
    ]
    assert result.exit_code == 1


def test_expect_invalid_text_names_each_event_not_as_expected(fixtures: Path) -> None:
    result = invoke("validate", "--expect", "invalid", str(fixtures))
    lines = result.stdout.splitlines()
    assert lines == [
        f"{fixtures / 'valid.json'}:1 voucher.published: expected invalid, but it is valid",
        "1 valid, 6 invalid, 0 unreadable; 1 not as expected (--expect invalid)",
    ]
    assert result.exit_code == 1
    (fixtures / "valid.json").unlink()
    result = invoke("validate", "--expect", "invalid", str(fixtures))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["0 valid, 6 invalid, 0 unreadable; 0 not as expected (--expect invalid)"]


@pytest.mark.parametrize("expect", ["valid", "invalid"])
def test_json_carries_expected_and_ok_per_event(fixtures: Path, expect: str) -> None:
    result = invoke("validate", "--expect", expect, "--format", "json", str(fixtures))
    doc = orjson.loads(result.stdout)
    assert {e["expected"] for e in doc["events"]} == {expect}
    for event in doc["events"]:
        assert event["ok"] is ((event["valid"] is False) if expect == "invalid" else event["valid"])
    assert doc["summary"]["expected"] == expect
    assert doc["summary"]["ok"] is False  # one of each kind: not as expected either way
    assert doc["summary"]["not_as_expected"] == (1 if expect == "invalid" else 6)
    assert result.exit_code == 1


def test_expect_valid_is_the_default_and_unreadable_input_fails_it(tmp_path: Path) -> None:
    good = write_ndjson(tmp_path / "good.ndjson", [samples.sample("voucher.published")])
    assert invoke("validate", str(good)).exit_code == 0
    assert invoke("validate", "--expect", "valid", str(good)).exit_code == 0
    assert invoke("validate", "--expect", "invalid", str(good)).exit_code == 1
    (tmp_path / "cut.json").write_text('{"id": "whs_1", "data": ')
    result = invoke("validate", "--format", "junit", str(tmp_path))
    assert ET.fromstring(result.stdout_bytes).get("errors") == "1" and result.exit_code == 1
    # among fixtures expected to be broken, unreadable JSON is broken as expected
    (tmp_path / "good.ndjson").unlink()
    result = invoke("validate", "--expect", "invalid", "--format", "junit", str(tmp_path))
    assert ET.fromstring(result.stdout_bytes).get("errors") == "0" and result.exit_code == 0


# --- nothing found -------------------------------------------------------------------------------


def test_an_empty_folder_fails_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an event")
    result = invoke("validate", str(empty))
    assert result.exit_code == 1
    assert result.stderr == f"vevents: no events found in {empty} (use --allow-empty to accept)\n"
    assert result.stdout == "0 valid, 0 invalid, 0 unreadable\n"
    assert invoke("validate", "--allow-empty", str(empty)).exit_code == 0
    for fmt in ("json", "junit", "github"):
        assert invoke("validate", "--format", fmt, str(empty)).exit_code == 1
    assert orjson.loads(invoke("validate", "--format", "json", str(empty)).stdout)["summary"]["ok"] is False


def test_stdin_with_no_data_fails_likewise() -> None:
    result = invoke("validate", input=b"")
    assert result.exit_code == 1
    assert result.stderr == "vevents: no events found in <stdin> (use --allow-empty to accept)\n"
    assert invoke("validate", "--allow-empty", input=b"").exit_code == 0


@pytest.mark.parametrize("command", [("show",), ("show", "--table"), ("show", "--format", "json"), ("stats",)])
def test_show_and_stats_say_so_too(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = invoke(*command, str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.endswith(f"vevents: no events found in {tmp_path} (use --allow-empty to accept)\n")
    assert invoke(*command, "--allow-empty", str(tmp_path)).exit_code == 0
    assert invoke(*command, input=b"").exit_code == 1


def test_filters_that_keep_nothing_count_as_nothing_found(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "log.ndjson", [samples.sample("voucher.published")])
    result = invoke("validate", "--type", "customer.*", str(log))
    assert result.exit_code == 1
    assert f"vevents: no events matched the filters in {log} (1 event filtered out; use --allow-empty" in result.stderr


# --- error locations -----------------------------------------------------------------------------


def test_github_annotates_the_failing_members_line_not_the_events(fixtures: Path) -> None:
    result = invoke("validate", "--format", "github", str(fixtures))
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == len(BREAKS)
    for i, (etype, pointer) in enumerate(BREAKS):
        path = fixtures / f"broken{i}.json"
        line, column = mark_line(path)
        assert line > 5  # inside the event, not its first line
        assert f"::error file={path},line={line},col={column},title={etype}::{pointer}: expected" in "\n".join(
            annotations
        )


def test_text_junit_and_json_give_the_same_line_and_column(fixtures: Path) -> None:
    path = fixtures / "broken0.json"
    line, column = mark_line(path)
    text = invoke("validate", str(path)).stdout.splitlines()
    assert text[0].startswith(f"{path}:{line}:{column} voucher.published /data/voucher/code: ")
    case = ET.fromstring(invoke("validate", "--format", "junit", str(path)).stdout_bytes).find("testcase")
    assert case is not None and case.get("line") == str(line)
    assert f"{path}:{line}:{column} " in (case.findtext("failure") or "")
    doc = orjson.loads(invoke("validate", "--format", "json", str(path)).stdout)
    (error,) = doc["events"][0]["errors"]
    assert (error["path"], error["line"], error["column"]) == ("/data/voucher/code", line, column)


def test_in_an_array_the_members_own_line(tmp_path: Path) -> None:
    path = tmp_path / "array.json"
    path.write_bytes(pretty([samples.sample("customer.rewarded"), broken(*BREAKS[0])]))
    line, column = mark_line(path)
    first_of_member = 1 + pretty([samples.sample("customer.rewarded")]).count(b"\n")
    assert line > first_of_member + 20
    result = invoke("validate", "--format", "github", str(path))
    assert f"::error file={path},line={line},col={column},title=voucher.published::" in result.stdout


def test_a_missing_required_member_points_at_its_parent(tmp_path: Path) -> None:
    payload = samples.sample("voucher.published")
    del payload["data"]["voucher"]["code"]
    path = tmp_path / "missing.json"
    path.write_bytes(pretty(payload))
    parent = path.read_text().splitlines().index('    "voucher": {') + 1  # data's own voucher
    result = invoke("validate", "--strict", "--format", "github", str(path))
    assert (
        f"line={parent},col=5,title=voucher.published::/data/voucher/code: required member is missing" in result.stdout
    )


def test_one_line_events_get_the_column_of_the_member_in_every_format(tmp_path: Path) -> None:
    """A compact body (how Voucherify sends every delivery) and an NDJSON log: the member's
    column within its line, in text, JSON, GitHub and JUnit."""
    payload = broken(*BREAKS[0])
    log = write_ndjson(tmp_path / "log.ndjson", [samples.sample("voucher.published"), payload])
    line = log.read_bytes().splitlines()[1].decode()
    column = line.index('"code":' + str(MARK)) + 1
    body = tmp_path / "body.json"
    body.write_bytes(orjson.dumps(payload))
    assert body.read_bytes().index(b'"code":' + str(MARK).encode()) + 1 == column
    for path, number in ((log, 2), (body, 1)):
        at = f"{path}:{number}:{column}"
        assert invoke("validate", str(path)).stdout.startswith(f"{at} voucher.published /data/voucher/code: ")
        github = invoke("validate", "--format", "github", str(path)).stdout
        assert f"::error file={path},line={number},col={column},title=" in github
        doc = orjson.loads(invoke("validate", "--format", "json", str(path)).stdout)
        (error,) = doc["events"][-1]["errors"]
        assert (error["line"], error["column"]) == (number, column)
        junit = ET.fromstring(invoke("validate", "--format", "junit", str(path)).stdout_bytes)
        assert any(f"{at} " in (case.findtext("failure") or "") for case in junit.iter("testcase"))


# --- show only looks -----------------------------------------------------------------------------


@pytest.mark.parametrize("view", [(), ("--table",), ("--format", "json")])
def test_show_exits_0_with_invalid_events_and_1_with_unreadable_input(fixtures: Path, view: tuple[str, ...]) -> None:
    result = invoke("show", *view, str(fixtures))
    assert result.exit_code == 0, result.stderr
    (fixtures / "cut.json").write_text('{"id": "whs_1", "data": ')
    result = invoke("show", *view, str(fixtures))
    assert result.exit_code == 1
    assert f"vevents: {fixtures / 'cut.json'}:1" in result.stderr


def test_values_one_after_another_on_a_line_get_their_own_columns(tmp_path: Path) -> None:
    """`cat a.json b.json` of compact bodies (and leading blanks): each error at its own column."""
    body = orjson.dumps(broken(*BREAKS[0]))
    path = tmp_path / "cat.json"
    path.write_bytes(b"  " + body + b" " + body + b"\n")
    at = body.index(b'"code":' + str(MARK).encode())
    columns = [2 + at + 1, 2 + len(body) + 1 + at + 1]
    lines = invoke("validate", str(path)).stdout.splitlines()[:-1]
    assert [line.split(" ")[0] for line in lines] == [f"{path}:1:{c}" for c in columns]
