"""Verdicts you can trust: one engine per event, warnings that never change validity, messages.

- Type agreement is a guess: a rollback carrying members its schema does not declare is
  valid, with a warning shown in every format (an error only with --strict).
- jsonschema-rs gives the verdict and, only when something prints them, the details: one
  walk per failing check; python-jsonschema is never imported on the per-event path. It
  checks schemas themselves (the generated ones here, `--schemas DIR` ones at start) and
  agrees with jsonschema-rs on every sample, vendor example and mutant.
- Enum errors list the allowed values; unknown event types get "did you mean".
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO, invoke, needs_vendor, run, user_schemas, vendor_examples, write_ndjson
from vevents_cli import resources, samples
from vevents_cli.model import Locator, Record
from vevents_cli.pipeline.check import SchemaSet
from vevents_cli.pipeline.recognise import recognise
from vevents_cli.voucherify import catalogue, dialects

ROLLBACKS = ("redemption.rollback.succeeded", "redemption.rollback.failed", "customer.redemption.rollback.succeeded")


def rollback_with_new_members(etype: str) -> dict[str, Any]:
    """A rollback as Voucherify might send it once it renames a member and adds another:
    its members then fit `customer.redemption.succeeded` better than its own type."""
    event = samples.sample(etype)
    data = dict(event["data"])
    data["rollback"] = data.pop("redemption_rollback")
    data["reason"] = "Order ORD-1042 returned"
    return {**event, "data": data}


@pytest.fixture
def rollbacks(tmp_path: Path) -> Path:
    return write_ndjson(tmp_path / "rollbacks.ndjson", [rollback_with_new_members(t) for t in ROLLBACKS])


def test_the_rollbacks_really_look_like_another_type() -> None:
    for etype in ROLLBACKS:
        assert catalogue.types_fitting(rollback_with_new_members(etype)["data"]) == ("customer.redemption.succeeded",)


# --- type agreement: a warning ----------------------------------------------------------------


def test_type_agreement_is_a_warning_in_text(rollbacks: Path) -> None:
    result = invoke("validate", str(rollbacks))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for n, etype in enumerate(ROLLBACKS, 1):
        assert (
            f"{rollbacks}:{n} {etype} /data: warning: data looks like customer.redemption.succeeded, "
            f"not {etype} (unexpected: reason, rollback)"
        ) in lines
    assert lines[-1] == "3 valid, 0 invalid, 0 unreadable, 3 warnings"
    assert invoke("validate", "-q", str(rollbacks)).stdout == "3 valid, 0 invalid, 0 unreadable, 3 warnings\n"


def test_type_agreement_warning_in_json_junit_github(rollbacks: Path) -> None:
    doc = orjson.loads(invoke("validate", "--format", "json", str(rollbacks)).stdout)
    assert doc["summary"]["warnings"] == 3 and doc["summary"]["invalid"] == 0
    for event in doc["events"]:
        assert event["valid"] is True and event["errors"] == []
        (warning,) = event["warnings"]
        assert warning["path"] == "/data" and warning["validator"] == "type-agreement"
        assert "looks like customer.redemption.succeeded" in warning["message"]

    junit = invoke("validate", "--format", "junit", str(rollbacks))
    assert junit.exit_code == 0
    suite = ET.fromstring(junit.stdout_bytes)
    assert suite.get("failures") == "0"
    outs = [case.findtext("system-out") for case in suite.iter("testcase")]
    assert len(outs) == 3 and all("warning: data looks like customer.redemption.succeeded" in o for o in outs)
    assert not list(suite.iter("failure"))

    github = invoke("validate", "--format", "github", str(rollbacks))
    assert github.exit_code == 0
    lines = github.stdout.splitlines()
    assert lines[0].startswith(
        f"::warning file={rollbacks},line=1,title=redemption.rollback.succeeded::/data%3A ".replace("%3A", ":")
    )
    assert sum(line.startswith("::warning ") for line in lines) == 3
    assert not any(line.startswith("::error") for line in lines)


def test_type_agreement_warning_in_show(rollbacks: Path) -> None:
    result = invoke("show", str(rollbacks))
    assert result.exit_code == 0
    assert result.stdout.count("│ warning ") == 3 and "invalid" not in result.stdout
    assert [
        e["valid"] for e in map(orjson.loads, invoke("show", "--format", "json", str(rollbacks)).stdout.splitlines())
    ] == [True, True, True]


def test_strict_treats_type_agreement_as_an_error(rollbacks: Path) -> None:
    doc = orjson.loads(invoke("validate", "--strict", "--format", "json", str(rollbacks)).stdout)
    for event in doc["events"]:
        assert event["valid"] is False and event["warnings"] == []
        assert any(e["validator"] == "type-agreement" for e in event["errors"])


def test_data_with_none_of_its_types_members_is_still_invalid(tmp_path: Path) -> None:
    """Not a guess: a voucher's data sent as a type none of whose members it has."""
    from tests.conformance.test_vendor_mutations import disagreeing_type

    data = samples.sample("voucher.published", "bare")
    other = disagreeing_type(data)
    event = samples.wrap(data, other, "v2024")
    result = invoke("validate", str(write_ndjson(tmp_path / "one.ndjson", [event])))
    assert result.exit_code == 1
    assert f"/data: data has none of the members of a {other} event" in result.stdout


def test_a_summary_line_without_warnings_is_unchanged() -> None:
    result = invoke("validate", str(REPO / "samples"))
    assert (
        result.stdout.splitlines()[-1] == f"{len(list((REPO / 'samples').rglob('*.json')))} valid, 0 invalid, "
        "0 unreadable"
    )


# --- one engine per event ---------------------------------------------------------------------


def _mutants() -> list[dict[str, Any]]:
    from tests.conformance.test_vendor_mutations import mutations

    return [event for etype, data in vendor_examples() for _, event, _ in mutations(etype, data)]


def _corpus() -> list[dict[str, Any]]:
    """Every sample in every dialect, every vendor example in every enveloped dialect, every mutant."""
    events = []
    for name, entry in catalogue.CATALOGUE.items():
        if entry.has_schema:
            events += [samples.sample(name, dialect) for dialect in dialects.for_type(entry)]
    for etype, data in vendor_examples():
        events += [samples.wrap(data, etype, dialect) for dialect in dialects.NAMES]
    return events + _mutants()


@functools.cache
def _python_jsonschema(path: Path) -> Any:
    """python-jsonschema for one schema file: local references, the formats jsonschema-rs asserts."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def resource(file: Path) -> Resource:
        return Resource.from_contents(orjson.loads(file.read_bytes()), default_specification=DRAFT202012)

    def retrieve(uri: str) -> Resource:
        assert uri.startswith("file://")
        return resource(Path(uri[7:].split("#")[0]))

    defs = path.parent.parent / "defs.json"  # shared definitions, loaded once (not on every $ref)
    registry = Registry(retrieve=retrieve).with_resource(defs.as_uri(), resource(defs))

    checker = FormatChecker(["date"])  # the formats the schemas use; date-time and time: RFC 3339 below

    @checker.checks("date-time")
    def date_time(value: object) -> bool:
        return not isinstance(value, str) or _rfc3339_date_time(value)

    @checker.checks("time")
    def time(value: object) -> bool:
        return not isinstance(value, str) or _rfc3339_date_time("2000-01-01T" + value)

    contents = {**orjson.loads(path.read_bytes()), "$id": path.as_uri()}
    return Draft202012Validator(contents, registry=registry, format_checker=checker)


_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-](\d\d):(\d\d))", re.ASCII)


def _rfc3339_date_time(text: str) -> bool:
    m = _RFC3339.fullmatch(text)
    if m is None:
        return False
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    hour, minute, second = int(m[4]), int(m[5]), int(m[6])
    offset_ok = m[9] is None or (int(m[9]) < 24 and int(m[10]) < 60)
    return hour < 24 and minute < 60 and second <= 60 and offset_ok


@pytest.mark.heavy  # python-jsonschema over the whole corpus: more than 3,000 checks per level
@needs_vendor
@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_both_engines_agree_on_every_verdict(strict: bool) -> None:
    schemas = SchemaSet(strict=strict)
    checked = disagreements = 0
    problems = []
    for n, payload in enumerate(_corpus()):
        event = recognise(Record(Locator("<corpus>", n + 1), orjson.dumps(payload), payload))
        plan = schemas.plan(event)
        for path, fast, instance in (
            (plan.envelope, plan.envelope_fast, event.payload),
            (plan.data, plan.data_fast, event.data),
        ):
            if path is None:
                continue
            checked += 1
            rs, py = fast.is_valid(instance), _python_jsonschema(path).is_valid(instance)
            if rs != py:
                disagreements += 1
                problems.append(f"{event.type} {path.relative_to(resources.schemas_dir())}: rs {rs}, python {py}")
        verdict = schemas.check(event)
        if verdict.valid is False:
            assert verdict.errors, f"{event.type}: invalid with no details"
    print(f"checks compared: {checked}, disagreements: {disagreements}")
    assert checked > 3000
    assert not problems, "\n".join(problems[:20])


_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12)
_KEYS = st.sampled_from(["voucher", "customer", "code", "id", "type", "object", "amount", "created_at", "x"])
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=20
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    etype=st.sampled_from(sorted(t for t, e in catalogue.CATALOGUE.items() if e.has_schema)),
    dialect=st.sampled_from(["v2024", "distribution", "legacy"]),
    patch=st.dictionaries(_KEYS, _JSON, max_size=3),
    strict=st.booleans(),
)
def test_every_invalid_verdict_has_its_details(etype: str, dialect: str, patch: dict[str, Any], strict: bool) -> None:
    """Whatever the data, an invalid verdict's errors come from the same engine: never none."""
    payload = samples.wrap({**samples.sample(etype, "bare"), **patch}, etype, dialect)
    event = recognise(Record(Locator("<fuzz>", 1), orjson.dumps(payload), payload))
    verdict = (STRICT if strict else DEFAULT).check(event)
    if verdict.valid is False:
        assert verdict.errors
    else:
        assert verdict.errors == ()


DEFAULT, STRICT = SchemaSet(), SchemaSet(strict=True)


def test_generated_schemas_are_valid_schemas() -> None:
    from jsonschema import Draft202012Validator

    files = [p for level in ("default", "strict", "legacy") for p in (resources.schemas_dir() / level).rglob("*.json")]
    assert len(files) > 200
    for path in files:
        Draft202012Validator.check_schema(orjson.loads(path.read_bytes()))


def test_details_are_computed_only_when_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = dict(samples.sample("voucher.published"))
    broken["data"] = {**broken["data"], "voucher": {**broken["data"]["voucher"], "id": 5}}
    del broken["data"]["voucher"]["code"]
    enveloped = {k: v for k, v in broken.items() if k != "source"}  # the envelope fails too
    log = write_ndjson(tmp_path / "broken.ndjson", [broken, enveloped, samples.sample("voucher.published")])
    walks: list[Path] = []
    explain = SchemaSet.explain

    def counting(self: SchemaSet, check: Any) -> Any:
        walks.append(check.schema)
        return explain(self, check)

    monkeypatch.setattr(SchemaSet, "explain", counting)
    for quiet in (("validate", "-q"), ("stats",), ("show", "--format", "json"), ("show", "--table")):
        invoke(*quiet, str(log))
        assert walks == [], quiet
    result = invoke("validate", str(log))
    assert result.exit_code == 1
    assert len(walks) == 3  # one walk per failing check: data, then envelope and data
    assert result.stdout.count("/data/voucher/code: required member is missing") == 2
    assert "/source: required member is missing" in result.stdout


def test_python_jsonschema_stays_off_the_per_event_path(tmp_path: Path) -> None:
    broken = dict(samples.sample("voucher.published"))
    broken["data"] = {**broken["data"], "voucher": {"id": 5}}
    log = write_ndjson(tmp_path / "broken.ndjson", [broken])
    script = (
        "import sys; from vevents_cli.cli.app import status_of; "
        f"status = status_of(['validate', {str(log)!r}]); "
        "print('jsonschema' in sys.modules, 'rfc3339_validator' in sys.modules, int(status), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stderr.split() == ["False", "False", "1"], proc.stderr
    assert "/data/voucher/code: required member is missing" in proc.stdout


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (b'{"type": "objekt"}', "broken.json: /type: 'objekt' is not valid under any of the given schemas"),
        (b'{"properties": {"sms": {"maxLength": -1}}}', "broken.json: /properties/sms/maxLength: -1 is less than"),
        (b'{"type": "object",', "broken.json: not JSON:"),
    ],
)
def test_a_broken_user_schema_gives_one_clear_line(tmp_path: Path, schema: bytes, expected: str) -> None:
    folder, log = user_schemas(tmp_path, "broken.json", schema)
    proc = run("validate", "--schemas", str(folder), str(log), text=True, env={"COLUMNS": "250", "PATH": ""})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert expected in " ".join(proc.stderr.split()), proc.stderr


# --- messages --------------------------------------------------------------------------------------


def _validate_one(tmp_path: Path, event: dict[str, Any], *args: str) -> list[str]:
    result = invoke("validate", *args, str(write_ndjson(tmp_path / "one.ndjson", [event])))
    assert result.exit_code == 1
    return [line.split(" ", 2)[2] for line in result.stdout.splitlines()[:-1]]


def test_an_unknown_type_gets_did_you_mean_and_closed_quotes(tmp_path: Path) -> None:
    event = {
        **samples.sample("business_validation_rule.assignment.created"),
        "type": "business_validation_rule.assignment.creatd",
    }
    (line,) = _validate_one(tmp_path, event)
    assert line.startswith(
        "/type: unknown event type 'business_validation_rule.assignment.creatd'; did you mean "
        "'business_validation_rule.assignment.created'"
    )
    assert line.count("'") % 2 == 0 and "...." not in line
    distribution = samples.sample("voucher.published", "distribution")
    distribution["event"] = {**distribution["event"], "type": "voucher.publishd"}
    (line,) = _validate_one(tmp_path, distribution)
    assert line.startswith("/event/type: unknown event type 'voucher.publishd'; did you mean 'voucher.published'")


def test_enum_errors_list_the_allowed_values(tmp_path: Path) -> None:
    event = samples.sample("voucher.published")
    voucher = event["data"]["voucher"]
    event["data"]["voucher"] = {**voucher, "type": "WRONG", "discount": {**voucher["discount"], "type": "WRONG"}}
    lines = _validate_one(tmp_path, event)
    assert "/data/voucher/type: 'WRONG' is not one of 'DISCOUNT_VOUCHER', 'LOYALTY_CARD', 'GIFT_VOUCHER', null" in lines
    (discount,) = [line for line in lines if line.startswith("/data/voucher/discount/type:")]
    assert set(re.findall(r"'([A-Z_]+)'", discount)) == {"WRONG", "AMOUNT", "PERCENT", "UNIT", "FIXED"}


def test_long_enums_list_the_closest_values_and_how_many_more(tmp_path: Path) -> None:
    event = samples.sample("voucher.published", "distribution")
    event["event"] = {**event["event"], "type": "customer.creatd"}
    lines = _validate_one(tmp_path, event, "--strict")
    (line,) = [line for line in lines if line.startswith("/event/type")]
    assert "unknown event type 'customer.creatd'; did you mean 'customer.created'" in line
    envelope = orjson.loads((resources.schemas_dir() / "default" / "envelope" / "v2024.json").read_bytes())
    from vevents_cli.pipeline.messages import enum_message

    options = envelope["properties"]["type"]["enum"]
    message = enum_message("voucher.publishd", options)
    assert message.startswith("'voucher.publishd' is not one of 'voucher.published', ")
    assert message.endswith(f", … {len(options) - 5} more") and message.count("'") == 12
