"""The CLI as users meet it: output formats, exit codes, discovery commands, pipes, signals."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest

from tests.helpers import REPO, command_line, invoke, ndjson, popen, run, sh, user_schemas, write_ndjson
from vevents_cli import samples
from vevents_cli.cli.app import app
from vevents_cli.voucherify import catalogue

PUBLISHED = samples.sample("voucher.published")


def broken_published() -> dict:
    data = {**PUBLISHED["data"], "voucher": {**PUBLISHED["data"]["voucher"]}}
    data["voucher"]["id"] = 12345
    del data["voucher"]["code"]
    return {**PUBLISHED, "data": data}


def broken_columns() -> tuple[int, int]:
    """Columns, in the broken event's line, of `data.voucher` (where its missing `code` is
    reported) and of its integer `id`."""
    event = broken_published()
    line = orjson.dumps(event)
    voucher = line.index(b'"voucher":' + orjson.dumps(event["data"]["voucher"])) + 1
    return voucher, line.index(b'"id":12345') + 1


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A log with one valid event, one invalid event and one unreadable line."""
    log = tmp_path / "mixed.ndjson"
    log.write_bytes(orjson.dumps(PUBLISHED) + b"\n" + orjson.dumps(broken_published()) + b"\n{truncated\n")
    return log


# --- validate: formats and exit codes ---------------------------------------------------------


def test_validate_text_lists_each_error_then_a_summary(mixed: Path) -> None:
    result = invoke("validate", str(mixed))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    voucher, id_ = broken_columns()
    assert f"{mixed}:2:{id_} voucher.published /data/voucher/id: expected string or null, got integer" in lines
    assert f"{mixed}:2:{voucher} voucher.published /data/voucher/code: required member is missing" in lines
    assert lines[-1] == "1 valid, 1 invalid, 1 unreadable"
    assert f"vevents: {mixed}:3:2: " in result.stderr


def test_validate_quiet_prints_the_summary_and_where_input_is_unreadable(mixed: Path) -> None:
    result = invoke("validate", "-q", str(mixed))
    assert result.stdout == "1 valid, 1 invalid, 1 unreadable\n"
    [line] = result.stderr.splitlines()  # no line for the invalid event
    assert line.startswith(f"vevents: {mixed}:3:2: ")


def test_validate_json_document(mixed: Path) -> None:
    result = invoke("validate", "--format", "json", str(mixed))
    doc = orjson.loads(result.stdout)
    assert result.exit_code == 1
    assert set(doc) == {"events", "unreadable", "summary"}
    assert doc["summary"] == {
        "events": 2,
        "valid": 1,
        "invalid": 1,
        "unreadable": 1,
        "warnings": 0,
        "expected": "valid",
        "not_as_expected": 2,
        "ok": False,
    }
    valid, invalid = doc["events"]
    assert set(valid) == {"source", "line", "index", "dialect", "type", "valid", "expected", "ok", "errors", "warnings"}
    assert valid["valid"] is True and valid["errors"] == [] and valid["ok"] is True and valid["warnings"] == []
    assert {
        "path": "/data/voucher/code",
        "message": "required member is missing",
        "validator": "required",
        "line": 2,
        "column": broken_columns()[0],
    } in invalid["errors"]
    assert doc["unreadable"] == [
        {"source": str(mixed), "line": 3, "column": 2, "error": doc["unreadable"][0]["error"], "ok": False}
    ]
    only = orjson.loads(invoke("validate", "--format", "json", "--only-invalid", str(mixed)).stdout)
    assert [e["line"] for e in only["events"]] == [2]


def test_validate_junit(mixed: Path) -> None:
    result = invoke("validate", "--format", "junit", str(mixed))
    suite = ET.fromstring(result.stdout.encode())
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "/data/voucher" in failure.get("message", "")
    assert cases[2].find("error") is not None


def test_validate_github_annotations(mixed: Path) -> None:
    result = invoke("validate", "--format", "github", str(mixed))
    lines = result.stdout.splitlines()
    # Properties escape ':' and ','; the message part only '%' and newlines.
    assert (
        f"::error file={mixed},line=2,col={broken_columns()[0]},"
        "title=voucher.published::/data/voucher/code: required member is missing" in lines
    )
    assert any(line.startswith(f"::error file={mixed},line=3,col=2,title=unreadable::") for line in lines)
    assert result.exit_code == 1


def test_exit_codes(tmp_path: Path) -> None:
    good = write_ndjson(tmp_path / "good.ndjson", [PUBLISHED])
    bad = write_ndjson(tmp_path / "bad.ndjson", [broken_published()])
    assert invoke("validate", str(good)).exit_code == 0
    assert invoke("validate", str(bad)).exit_code == 1
    assert invoke("validate", "--format", "yaml", str(good)).exit_code == 2
    assert invoke("validate", "--as", "no.such.type", str(good)).exit_code == 2
    assert invoke("validate", str(tmp_path / "nope.json")).exit_code == 1


def test_expect_invalid_for_broken_fixture_folders(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    write_ndjson(broken / "a.json", [broken_published()])
    (broken / "b.json").write_text('{"id": "whs_1", "data": ')
    assert invoke("validate", "--expect", "invalid", str(broken)).exit_code == 0
    write_ndjson(broken / "c.json", [PUBLISHED])
    result = invoke("validate", "--expect", "invalid", str(broken))
    assert result.exit_code == 1


def test_user_schemas_override_and_extend(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "Order paid → SMS.json").write_text(
        orjson.dumps(
            {
                "type": "object",
                "required": ["sms"],
                "properties": {"sms": {"type": "string", "maxLength": 10}},
            }
        ).decode()
    )
    custom = samples.wrap(
        {"sms": "a message that is far too long"}, "customer.order.paid", "distribution", name="Order paid → SMS"
    )
    path = write_ndjson(tmp_path / "custom.ndjson", [custom])
    without = invoke("validate", str(path))
    assert without.exit_code == 0 and "custom payload, envelope checked" in without.stderr
    result = invoke("validate", "--schemas", str(schemas), str(path))
    assert result.exit_code == 1
    assert "/data/sms" in result.stdout


def test_remote_refs_are_refused_not_fetched(tmp_path: Path) -> None:
    schemas, path = user_schemas(
        tmp_path, "voucher.published.json", orjson.dumps({"$ref": "https://example.invalid/schema.json"})
    )
    result = run("validate", "--schemas", str(schemas), str(path), text=True, env={"COLUMNS": "250"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "remote schema reference refused" in result.stderr + result.stdout


# --- show ----------------------------------------------------------------------------------


def test_show_json_has_exactly_the_documented_keys() -> None:
    (event,) = ndjson(invoke("show", "--format", "json", input=orjson.dumps(PUBLISHED)).stdout)
    assert list(event) == [
        "source",
        "line",
        "index",
        "dialect",
        "type",
        "name",
        "id",
        "created_at",
        "customer",
        "voucher",
        "campaign",
        "points",
        "gift",
        "order",
        "redemption",
        "reward",
        "issued_voucher",
        "tier",
        "segment",
        "changes",
        "valid",
    ]
    assert list(event["customer"]) == ["id", "source_id", "name", "email"]
    assert list(event["voucher"]) == ["id", "code", "type", "gift_balance"]
    assert event["valid"] is True


def test_show_panel_marks_invalid_events_with_their_first_error() -> None:
    result = invoke("show", input=orjson.dumps(broken_published()))
    assert result.exit_code == 0  # show only looks: invalid events are marked, not failed
    assert "invalid" in result.stdout and "/data/voucher/" in result.stdout


def test_show_table_one_line_per_event(tmp_path: Path) -> None:
    points = samples.sample("customer.voucher.loyalty_card.points_added")
    log = write_ndjson(tmp_path / "log.ndjson", [PUBLISHED, points, broken_published()])
    result = invoke("show", "--table", str(log))
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:2] == ["valid", "time"]  # in a pipe: tab-separated, whole values
    assert len(lines) == 4
    assert "+40" in lines[2] and "✓" in lines[2]
    assert "✗" in lines[3]


def test_show_raw_prints_the_payload() -> None:
    result = invoke("show", "--raw", input=orjson.dumps(PUBLISHED))
    assert PUBLISHED["id"] in result.stdout and '"project_id"' in result.stdout


def test_amounts_are_shown_raw_and_formatted() -> None:
    paid = samples.sample("customer.order.paid")
    result = invoke("show", input=orjson.dumps(paid))
    amount = paid["data"]["order"]["amount"]
    assert f"{amount:,} ({amount / 100:,.2f})" in result.stdout


def test_no_colour_when_piped_or_no_color(tmp_path: Path) -> None:
    path = write_ndjson(tmp_path / "one.ndjson", [PUBLISHED])
    env = {"NO_COLOR": "1", "FORCE_COLOR": ""}
    for extra in ({}, {"TERM": "xterm-256color"}):
        proc = run("show", str(path), env={**env, **extra})
        assert proc.returncode == 0
        assert b"\x1b[" not in proc.stdout


# --- discovery ---------------------------------------------------------------------------------


def test_types_lists_the_whole_catalogue() -> None:
    result = invoke("types", "--format", "json")
    rows = ndjson(result.stdout)
    assert len(rows) == len(catalogue.CATALOGUE) == 90
    by_type = {r["type"]: r for r in rows}
    assert "points" in by_type["voucher.loyalty_card.transaction.created"]["facts"]
    assert by_type["customer.confirmed"]["schema"] is False
    assert "customer.loyalty.tier.upgraded" in invoke("types").stdout


@pytest.mark.parametrize("dialect", ["v2024", "distribution", "legacy", "bare"])
def test_sample_in_each_dialect_shows_as_that_dialect(dialect: str) -> None:
    printed = invoke("sample", "customer.rewarded", "--dialect", dialect)
    assert printed.exit_code == 0
    args = ["show", "--format", "json"] + (["--as", "customer.rewarded"] if dialect == "bare" else [])
    (event,) = ndjson(invoke(*args, input=printed.stdout).stdout)
    assert (event["dialect"], event["type"], event["valid"]) == (dialect, "customer.rewarded", True)


def test_sample_unknown_type_is_a_usage_error() -> None:
    result = invoke("sample", "voucher.teleported")
    assert result.exit_code == 2 and "no sample for 'voucher.teleported'" in result.stderr


def test_schema_prints_bundled_schemas() -> None:
    default = orjson.loads(invoke("schema", "voucher.published").stdout)
    assert default["$ref"].endswith("EventVoucherPublishedData")
    envelope = orjson.loads(invoke("schema", "envelope/legacy", "--strict").stdout)
    assert envelope["properties"]["object"]
    assert invoke("schema", "../../etc/passwd").exit_code == 2


def test_version_and_help_with_examples() -> None:
    assert invoke("--version").stdout.startswith("vevents ")
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert {"show", "validate", "types", "sample", "schema"} <= set(commands)
    for command in commands:
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "vevents " + command in result.stdout.replace("\n", " "), command


# --- pipes and signals ---------------------------------------------------------------------------


def test_broken_pipe_ends_quietly(tmp_path: Path) -> None:
    log = write_ndjson(tmp_path / "big.ndjson", [PUBLISHED] * 5000)
    proc = sh(f"{command_line('show', str(log))} | head -1")
    assert proc.stdout.count(b"\n") == 1
    assert proc.stderr == b""


def test_ctrl_c_exits_quietly(tmp_path: Path) -> None:
    proc = popen("show", "--table", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(orjson.dumps(PUBLISHED) + b"\n")
    proc.stdin.flush()
    proc.stdout.readline()  # the header: the process is up and reading
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
