"""What the writing commands write (issue 9): never over an input, every number exactly,
any nesting; and a `--schemas` mapping file that cannot be used is one usage error."""

from __future__ import annotations

import copy
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import invoke, ndjson, run, user_schemas, write_ndjson
from vevents_cli import jsonout, samples

BIG = 123456789012345678901234567890  # beyond 64 bits
TYPES = ("customer.created", "voucher.published", "redemption.succeeded", "customer.rewarded")


def events() -> list[dict[str, Any]]:
    return [samples.sample(t) for t in TYPES]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    return write_ndjson(tmp_path / "in" / "webhooks.ndjson", events())


def run_cli(*args: str, stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
    with open(stdin if stdin else os.devnull, "rb") as given:
        return run(*args, stdin=given, text=True, env={"COLUMNS": "250"})


# --- inputs are never written ------------------------------------------------------------------


def test_redact_refuses_the_file_stdin_is_redirected_from(log: Path) -> None:
    before = log.read_bytes()
    result = run_cli("redact", "--out", str(log), stdin=log)  # vevents redact --out in.ndjson < in.ndjson
    assert result.returncode == 2, result.stderr
    assert "is standard input; redact never modifies its input" in result.stderr
    assert "Traceback" not in result.stderr
    assert log.read_bytes() == before
    other = log.parent / "other.ndjson"
    assert run_cli("redact", "--out", str(other), "--salt", "s", stdin=log).returncode == 0
    assert len(ndjson(other.read_text())) == len(TYPES)


def test_redact_refuses_a_hard_link_or_symlink_to_an_input(log: Path, tmp_path: Path) -> None:
    before = log.read_bytes()
    hard, soft = tmp_path / "hard.ndjson", tmp_path / "soft.ndjson"
    os.link(log, hard)
    soft.symlink_to(log)
    for out in (hard, soft):
        result = invoke("redact", str(log), "--out", str(out))
        assert result.exit_code == 2 and "is one of the input files" in result.stderr, result.output
        assert log.read_bytes() == before
    # the input folder, walked, holds the input: the same refusal
    assert invoke("redact", str(log.parent), "--out", str(hard)).exit_code == 2
    assert log.read_bytes() == before


def test_split_refuses_an_output_folder_that_overlaps_an_input_folder(log: Path, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    assert invoke("split", str(log), "--out", str(fixtures), "--bare").exit_code == 0
    before = {p: p.read_bytes() for p in fixtures.rglob("*.json")}
    assert len(before) == len(TYPES)
    for out in (fixtures, fixtures / "sub", tmp_path):  # vevents split fx --out fx --force --bare, and around it
        result = invoke("split", str(fixtures), "--out", str(out), "--force", "--bare")
        assert result.exit_code == 2 and "overlaps the input folder" in result.stderr, result.output
    assert {p: p.read_bytes() for p in fixtures.rglob("*.json")} == before


def test_split_force_never_overwrites_an_input_file(log: Path, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    assert invoke("split", str(log), "--out", str(fixtures)).exit_code == 0
    one = next(fixtures.rglob("*.json"))
    one.write_bytes(one.read_bytes().replace(b"\n", b"\r\n"))  # a hand-made fixture: other bytes, same event
    before = one.read_bytes()
    # the fixture itself given as input: its own piece would land on it
    result = invoke("split", str(one), "--out", str(fixtures), "--force")
    assert result.exit_code == 1
    assert f"{one} is an input file: split never overwrites its input" in result.stderr
    assert one.read_bytes() == before
    # a hard link to the input where a piece goes
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = elsewhere / "one.json"
    source.write_bytes(before)
    one.unlink()
    os.link(source, one)
    assert invoke("split", str(source), "--out", str(fixtures), "--force").exit_code == 1
    assert source.read_bytes() == before
    # files that are not inputs are still overwritten with --force
    result = invoke("split", str(log), "--out", str(fixtures), "--force")
    assert result.exit_code == 0 and f"{len(TYPES)} files written" in result.stderr, result.output


# --- numbers and nesting written exactly ---------------------------------------------------------


def test_dumps_writes_what_orjson_cannot_with_the_same_layout() -> None:
    payload = samples.sample("customer.rewarded")
    assert jsonout.dumps(payload) == orjson.dumps(payload)
    assert jsonout.dumps(payload, pretty=True, newline=True) == orjson.dumps(
        payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )
    big = {**payload, "data": {**payload["data"], "amount": BIG, "debt": -BIG, "list": [BIG, 1.5, "é"]}}
    compact = jsonout.dumps(big)
    assert b'"amount":123456789012345678901234567890,"debt":-123456789012345678901234567890' in compact
    assert "é".encode() in compact
    small = {**big, "data": {**big["data"], "amount": 7, "debt": -7, "list": [7, 1.5, "é"]}}
    expected = orjson.dumps(small, option=orjson.OPT_INDENT_2).decode()
    assert jsonout.dumps(big, pretty=True).decode() == expected.replace('"amount": 7', f'"amount": {BIG}').replace(
        '"debt": -7', f'"debt": {-BIG}'
    ).replace("    7,", f"    {BIG},")
    deep: Any = "bottom"
    for _ in range(511):  # 1,022 levels: as deep as orjson reads; it writes only 254
        deep = {"a": [deep]}
    written = jsonout.dumps(deep)
    assert written == b'{"a":[' * 511 + b'"bottom"' + b"]}" * 511
    assert jsonout.dumps(orjson.loads(written)) == written
    assert jsonout.dumps("\ud800") == b'"\\ud800"'  # a lone surrogate stays its escape


def test_big_integers_survive_redact_and_split(tmp_path: Path) -> None:
    payload = copy.deepcopy(samples.sample("customer.rewarded"))
    payload["data"]["customer"]["metadata"] = {"ledger": BIG, "debt": -BIG, "both": [BIG, 2**64, -(2**63) - 1]}
    log = tmp_path / "big.ndjson"
    log.write_bytes(jsonout.dumps(payload, newline=True))
    redacted = invoke("redact", str(log), "--salt", "s")
    assert redacted.exit_code == 0, redacted.output
    (line,) = redacted.stdout.splitlines()
    assert f'"metadata":{{"ledger":{BIG},"debt":{-BIG},"both":[{BIG},{2**64},{-(2**63) - 1}]}}' in line
    out = tmp_path / "fx"
    assert invoke("split", str(log), "--out", str(out)).exit_code == 0
    (fixture,) = out.rglob("*.json")
    assert f'"ledger": {BIG}' in fixture.read_text() and f'"debt": {-BIG}' in fixture.read_text()


def test_a_payload_nested_1000_levels_deep_is_redacted_and_split(tmp_path: Path) -> None:
    payload = copy.deepcopy(samples.sample("customer.created"))
    deep: Any = {"email": "ada@example.test"}
    for _ in range(500):
        deep = {"nested": [deep]}
    payload["data"]["customer"]["metadata"] = deep  # 1,005 levels in all
    log = tmp_path / "deep.ndjson"
    log.write_bytes(jsonout.dumps(payload, newline=True))
    result = invoke("redact", str(log), "--salt", "s")
    assert result.exit_code == 0, result.output
    (redacted,) = ndjson(result.stdout)
    inner = redacted["data"]["customer"]["metadata"]
    for _ in range(500):
        inner = inner["nested"][0]
    assert inner["email"].endswith("@example.invalid")
    out = tmp_path / "fx"
    result = invoke("split", str(log), "--out", str(out))
    assert result.exit_code == 0, result.output
    (fixture,) = out.rglob("*.json")
    assert fixture.read_bytes() == jsonout.dumps(payload, pretty=True, newline=True)


# --- a --schemas mapping file that cannot be used ---------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        (b'["voucher.published.json"]', "must be an object mapping names to schema files"),
        (b'{"voucher.published": 42}', "'voucher.published' must name a schema file (a string), found JSON integer"),
        (b'{"voucher.published": {"file": "a.json"}}', "must name a schema file (a string), found JSON object"),
        (b'{"voucher.published": "missing.json"}', "'voucher.published' names 'missing.json', which is not a file"),
        (b'{"voucher.published": "."}', "names '.', which is not a file"),
        (b'{"voucher.published": ', "vevents-schemas.json: not JSON"),
    ],
)
def test_a_schemas_mapping_that_cannot_be_used_is_one_usage_error(tmp_path: Path, mapping: bytes, says: str) -> None:
    schemas, log = user_schemas(tmp_path, "vevents-schemas.json", mapping)
    result = run_cli("validate", "--schemas", str(schemas), str(log))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Invalid value for --schemas: vevents-schemas.json: ") and says in error, error


def test_a_good_schemas_mapping_is_used(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    (schemas / "mine").mkdir(parents=True)
    (schemas / "mine" / "strict-voucher.json").write_bytes(
        orjson.dumps({"type": "object", "required": ["never_there"]})
    )
    (schemas / "vevents-schemas.json").write_bytes(b'{"voucher.published": "mine/strict-voucher.json"}')
    log = write_ndjson(tmp_path / "one.ndjson", [samples.sample("voucher.published")])
    result = invoke("validate", "--schemas", str(schemas), str(log))
    assert result.exit_code == 1 and "never_there" in result.stdout, result.output


# --- split: the README's examples, and bare fixtures that validate ------------------------------

REPO = Path(__file__).resolve().parents[2]


def readme_split_examples() -> list[list[str]]:
    """The commands of the README's `split` example block, in order."""
    section = (REPO / "README.md").read_text().split("### split", 1)[1]
    block = section.split("```", 2)[1].split("\n", 1)[1]  # after the info string (sh)
    return [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]


def test_the_readme_split_examples_run_in_order_and_their_fixtures_validate(tmp_path: Path) -> None:
    """split, split --bare, validate: as the README gives them, on a log of ambiguous shapes
    (redemption.succeeded and redemption.failed data look alike) and every voucher type."""
    types = (*TYPES, "redemption.failed", "voucher.updated", "voucher.deleted")
    write_ndjson(tmp_path / "webhooks.ndjson", [samples.sample(t) for t in types])
    commands = readme_split_examples()
    assert [c[:2] for c in commands] == [["vevents", "split"], ["vevents", "split"], ["vevents", "validate"]]
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        results = [invoke(*command[1:]) for command in commands]
    finally:
        os.chdir(cwd)
    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    assert "0 invalid, 0 unreadable" in results[2].stdout
    bare = sorted(p.parent.name for p in (tmp_path / "bare-fixtures").rglob("*.json"))
    assert bare == ["voucher.deleted", "voucher.published", "voucher.updated"]


def test_bare_fixtures_take_their_type_from_their_folder_or_file_name(tmp_path: Path) -> None:
    alike = ("redemption.succeeded", "redemption.failed")
    log = write_ndjson(tmp_path / "log.ndjson", [samples.sample(t) for t in alike])
    out = tmp_path / "fx"
    assert invoke("split", str(log), "--out", str(out), "--bare").exit_code == 0
    report = orjson.loads(invoke("validate", "--format", "json", str(out)).stdout)
    assert sorted(e["type"] for e in report["events"]) == ["redemption.failed", "redemption.succeeded"]
    assert report["summary"]["invalid"] == 0
    named = tmp_path / "redemption.failed.json"
    named.write_bytes(orjson.dumps(samples.sample("redemption.failed")["data"]))
    assert invoke("validate", str(named)).exit_code == 0
    # --as wins over the name; a name that is no known type is never a type (nor a path)
    forced = orjson.loads(invoke("validate", "--format", "json", "--as", "redemption.succeeded", str(named)).stdout)
    assert [e["type"] for e in forced["events"]] == ["redemption.succeeded"]
    odd = tmp_path / "redemption.json"
    odd.write_bytes(named.read_bytes())
    assert "cannot tell the event type" in invoke("validate", str(odd)).stdout
