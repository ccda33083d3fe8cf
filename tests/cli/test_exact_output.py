"""`redact` and `split` write values exactly as they were read: numbers byte for byte
(`0.12345678901234567890123`, `1E+2`, `-0`, a 30-digit integer), every member of an object
with duplicate keys, in order (each redacted), and a lone surrogate inside JSON held in a
string (`\\ud800` in a legacy `data_json`) as that escape, so vevents and orjson read the
output again. A fixture keeps orjson's two-space layout."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from tests.helpers import invoke, ndjson
from vevents_cli import samples
from vevents_cli.voucherify import catalogue

NUMBERS = '"n1": 0.12345678901234567890123, "n2": 1E+2, "n3": -0, "n4": 123456789012345678901234567890, "n5": 1.50'
WRITTEN = ["0.12345678901234567890123", "1E+2", "-0", "123456789012345678901234567890", "1.50"]


def customer_created_text(extra_data: str = "", extra_customer: str = "") -> str:
    """customer.created as text, with members only text can hold (exact numbers, duplicate keys)."""
    text = json.dumps(samples.sample("customer.created"))
    text = text.replace('"data": {', '"data": {' + extra_data + ", ", 1) if extra_data else text
    return text.replace('"customer": {', '"customer": {' + extra_customer + ", ", 1) if extra_customer else text


def legacy_with_surrogate() -> str:
    """A legacy event whose related object's `data_json` holds a lone surrogate escape (`\\ud800`)."""
    event = samples.sample("customer.rewarded.loyalty_points", "legacy")
    related = event["data"]["related_object"]
    data = related.pop("data")
    data["campaign"]["name"] = "SURROGATE"
    related["data_json"] = json.dumps(data).replace("SURROGATE", "\\ud800 tier")
    return json.dumps(event)


def test_redact_keeps_numbers_as_written(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text(customer_created_text(NUMBERS, NUMBERS) + "\n")
    result = invoke("redact", "--salt", "s", str(source))
    assert result.exit_code == 0, result.output
    for literal in WRITTEN:
        assert result.stdout.count(f":{literal},") == 2, (literal, result.stdout[:400])
    assert json.loads(result.stdout)["data"]["n4"] == 123456789012345678901234567890


def test_redact_keeps_every_duplicate_key_and_redacts_each(tmp_path: Path) -> None:
    dups = '"email": "ada@example.test", "email": "grace@example.test", "tag": 1, "tag": 2'
    source = tmp_path / "in.ndjson"
    source.write_text(customer_created_text(extra_customer=dups) + "\n")
    result = invoke("redact", "--salt", "s", str(source))
    assert result.exit_code == 0, result.output
    line = result.stdout
    assert "ada@example.test" not in line and "grace@example.test" not in line
    customer = line[line.index('"customer":{') :]
    assert customer.count('"email":"user-') >= 3  # the two planted and the sample's own
    assert '"tag":1,"tag":2' in customer


def test_a_lone_surrogate_inside_json_in_a_string_is_written_as_its_escape(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text(legacy_with_surrogate() + "\n")
    result = invoke("redact", "--salt", "s", str(source))
    assert result.exit_code == 0, result.output
    out = result.stdout.encode()
    (event,) = [orjson.loads(line) for line in out.splitlines()]  # orjson reads it
    assert "\\ud800 tier" in event["data"]["related_object"]["data_json"]
    shown = invoke("show", "--format", "json", input=out)
    assert shown.exit_code == 0, shown.output
    assert ndjson(shown.stdout)[0]["type"] == "customer.rewarded.loyalty_points"


def test_split_keeps_numbers_duplicates_and_escapes(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    dups = '"tag": 1, "tag": 2'
    source.write_text(customer_created_text(NUMBERS + ", " + dups) + "\n" + legacy_with_surrogate() + "\n")
    result = invoke("split", "--out", str(tmp_path / "fx"), str(source))
    assert result.exit_code == 0, result.output
    created, rewarded = (
        next((tmp_path / "fx").glob(f"{t}/*.json")) for t in ("customer.created", "customer.rewarded.loyalty_points")
    )
    text = created.read_text()
    for literal in WRITTEN:
        assert f": {literal},\n" in text, literal
    assert '"tag": 1,\n    "tag": 2,' in text
    assert "\\\\ud800 tier" in rewarded.read_text()
    shown = invoke("show", "--format", "json", str(tmp_path / "fx"))
    assert not shown.stderr and len(ndjson(shown.stdout)) == 2, shown.output  # vevents reads both again


def test_split_bare_keeps_the_data_exactly(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text(customer_created_text(NUMBERS + ', "tag": 1, "tag": 2') + "\n")
    result = invoke("split", "--bare", "--out", str(tmp_path / "fx"), str(source))
    assert result.exit_code == 0, result.output
    (fixture,) = (tmp_path / "fx").glob("*/*.json")
    text = fixture.read_text()
    assert text.startswith('{\n  "n1": 0.12345678901234567890123,\n  "n2": 1E+2,') and '"tag": 1,\n  "tag": 2,' in text
    assert '"customer": {' in text and '"project_id"' not in text


def test_split_bare_writes_a_legacy_events_object_exactly(tmp_path: Path) -> None:
    text = json.dumps(samples.sample("customer.updated", "legacy"))
    text = text.replace('"data": {"object": {', '"data": {"object": {"n2": 1E+2, "tag": 1, "tag": 2, ', 1)
    source = tmp_path / "in.ndjson"
    source.write_text(text + "\n")
    assert invoke("split", "--bare", "--out", str(tmp_path / "fx"), str(source)).exit_code == 0
    (fixture,) = (tmp_path / "fx").glob("*/*.json")
    assert fixture.read_text().startswith('{\n  "n2": 1E+2,\n  "tag": 1,\n  "tag": 2,\n  "customer": {')


def test_split_writes_orjson_layout(tmp_path: Path) -> None:
    """Every bundled sample, split, is the file orjson would indent (the layout split always wrote)."""
    events = [samples.sample(etype) for etype in sorted(catalogue.CATALOGUE) if samples.sample_path(etype)]
    source = tmp_path / "in.ndjson"
    source.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in events))
    assert invoke("split", "--out", str(tmp_path / "fx"), str(source)).exit_code == 0
    written = sorted((tmp_path / "fx").glob("*/*.json"))
    assert len(written) == len(events) > 50
    expected = {orjson.dumps(event, option=orjson.OPT_INDENT_2) + b"\n" for event in events}
    assert {path.read_bytes() for path in written} == expected
