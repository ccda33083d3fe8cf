"""The versioned schemas of vevents' JSON output (`vevents schema facts` / `report`): every record
the commands write on the samples, every payload (the vendor's examples, invalid variants,
unreadable lines), a gzip log and the bench log validates against them; they are tight (a
type for every member); pyarrow builds tables from the records with the schema's types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import orjson
import pytest

from tests.helpers import REPO, invoke, ndjson
from tests.helpers.corpus import SAMPLES, build
from vevents_cli import resources
from vevents_cli.voucherify import dialects

pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [SAMPLES, *build(tmp_path_factory.mktemp("corpus"))]


def schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(invoke("schema", name).stdout)
    return document


def output(*args: str) -> Any:
    result = invoke(*args)
    assert result.exit_code in (0, 1), result.output
    return ndjson(result.stdout) if args[0] == "show" else orjson.loads(result.stdout)


def test_the_schemas_are_printed_as_shipped_with_their_version_in_their_id() -> None:
    for name, version in (("facts", 1), ("report", 1)):
        printed = invoke("schema", name).stdout
        path = REPO / "schemas" / "output" / f"{name}.v{version}.json"
        assert orjson.loads(printed) == json.loads(path.read_text(encoding="utf-8"))
        document = orjson.loads(printed)
        assert document["$id"] == resources.SCHEMA_ID_BASE + f"output/{name}.v{version}.json"
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(document)
        assert invoke("schema", name, "--strict").stdout == printed


def _nodes(node: Any, root: dict[str, Any], where: str = "") -> Any:
    """(pointer, node) of every member's schema: properties, items, $defs."""
    for name, sub in node.get("properties", {}).items():
        yield f"{where}/{name}", sub
        yield from _nodes(sub, root, f"{where}/{name}")
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], root, f"{where}/items")
    for name, sub in node.get("$defs", {}).items():
        yield from _nodes(sub, root, f"#/$defs/{name}")


@pytest.mark.parametrize("name", ["facts", "report"])
def test_every_member_has_a_type_and_objects_are_closed(name: str) -> None:
    document = schema(name)
    for where, node in _nodes(document, document):
        if where.endswith(("/old", "/new")):  # a changed member's values: any JSON value
            assert node == {}
            continue
        assert "type" in node or "$ref" in node, where
        if node.get("type") in ("object", ["object", "null"]) and "properties" in node:
            assert node["additionalProperties"] is False, where
            assert set(node["required"]) <= set(node["properties"]), where


def test_the_facts_types_are_what_engines_need() -> None:
    facts = schema("facts")
    members = facts["properties"]
    assert members["line"]["type"] == "integer" and members["index"]["type"] == ["integer", "null"]
    assert members["created_at"] == {**members["created_at"], "type": ["string", "null"], "format": "date-time"}
    assert members["points"]["properties"]["delta"]["type"] == ["integer", "null"]
    assert members["dialect"]["enum"] == list(dialects.NAMES)
    assert facts["$defs"]["voucher"]["properties"]["gift_balance"]["type"] == ["number", "null"]  # as the vendor's
    assert set(facts["required"]) == set(members) - {"payload", "headers"}  # those two: only with --raw


def _validator(document: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(document, validate_formats=True)


VARIANTS = ([], ["--raw"], ["--expect", "invalid"], ["--only-invalid"], ["--strict"])


@pytest.mark.parametrize(
    ("which", "variants"),
    [
        pytest.param(0, VARIANTS, id="samples"),
        pytest.param(1, VARIANTS[:4], id="every-payload"),
        pytest.param(2, VARIANTS[:1], id="gzip"),
        pytest.param(3, VARIANTS[:1], id="bench-log", marks=pytest.mark.heavy),
    ],
)
def test_every_record_the_commands_write_is_valid(corpus: list[Path], which: int, variants: tuple[list[str]]) -> None:
    """Each option that changes what is written, on the samples and every payload (--strict: on
    the samples only, its error walks are slow on many invalid events); the gzip copy and the
    bench log as they are."""
    path = str(corpus[which])
    facts, report = _validator(schema("facts")), _validator(schema("report"))
    for args in variants:
        if args in ([], ["--raw"]):
            records = output("show", "--format", "json", *args, path)
            assert len(records) > 70
            for record in records:
                errors = [e.message for e in facts.iter_errors(record)]
                assert not errors, (record["source"], record["line"], errors)
        if args != ["--raw"]:
            document = output("validate", "--format", "json", *args, path)
            errors = [f"{e.instance_path}: {e.message}" for e in report.iter_errors(document)]
            assert not errors, (args, errors[:5])


def test_a_record_off_the_schema_is_refused() -> None:
    facts = _validator(schema("facts"))
    record = output("show", "--format", "json", str(SAMPLES / "voucher.loyalty_card.points_added.json"))[0]
    assert facts.is_valid(record)
    for wrong in (
        {**record, "line": "1"},
        {**record, "points": {**record["points"], "delta": "10"}},
        {**record, "created_at": "yesterday"},
        {**record, "extra": 1},
        {k: v for k, v in record.items() if k != "valid"},
    ):
        assert not facts.is_valid(wrong), wrong


def test_pyarrow_builds_tables_with_the_schemas_types(corpus: list[Path]) -> None:
    from vevents_cli.output import parquet

    facts = schema("facts")
    records = [r for path in corpus for r in output("show", "--format", "json", str(path))]
    convert = parquet.converter(facts, facts)
    table = pa.Table.from_pylist([convert(r) for r in records], schema=parquet.arrow_schema(facts))
    assert table.num_rows == len(records) > 2500
    types = table.schema
    assert types.field("line").type == pa.int64() and not types.field("line").nullable
    assert types.field("index").type == pa.int64() and types.field("index").nullable
    assert types.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert types.field("points").type.field("delta").type == pa.int64()
    assert types.field("gift").type.field("balance").type == pa.float64()
    assert types.field("changes").type == pa.list_(
        pa.struct([pa.field("field", pa.string(), nullable=False), ("old", pa.string()), ("new", pa.string())])
    )
    assert types.field("valid").type == pa.bool_()
    deltas = [r["points"]["delta"] for r in records if r["points"] and r["points"]["delta"] is not None]
    assert [p and p["delta"] for p in table.column("points").to_pylist()] == [
        r["points"] and r["points"]["delta"] for r in records
    ]
    assert len(deltas) > 100
    assert table.column("created_at").null_count == sum(r["created_at"] is None for r in records)
    changed = [c for r in records for c in r["changes"]]
    assert changed and all(
        orjson.loads(c["old"]) == o["old"]
        for c, o in zip([c for row in table.column("changes").to_pylist() for c in row], changed, strict=True)
    )

    report = schema("report")
    events = output("validate", "--format", "json", str(corpus[1]))["events"]
    event_type = parquet.arrow_type(report["$defs"]["event"], report)
    checked = pa.Table.from_pylist(events, schema=pa.schema(list(event_type)))
    assert checked.schema.field("errors").type.value_type.field("line").type == pa.int64()
    assert checked.to_pylist() == events
