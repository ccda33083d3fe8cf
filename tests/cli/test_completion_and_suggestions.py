"""Finding your way (issue 11): self-contained schemas, shell completion of types and
dialects, "did you mean" for a misspelt type."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import orjson
import pytest

from tests.helpers import REPO, invoke, run
from vevents_cli import resources, samples
from vevents_cli.voucherify import catalogue, dialects

WITH_SCHEMA = sorted(name for name, entry in catalogue.CATALOGUE.items() if entry.has_schema)


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if isinstance(node.get("$ref"), str) else []) + [
            r for v in node.values() for r in refs(v)
        ]
    return [r for v in node for r in refs(v)] if isinstance(node, list) else []


def no_retrieval(uri: str) -> Any:
    raise AssertionError(f"the document needed another file: {uri}")


@pytest.mark.heavy  # python-jsonschema checks 144 documents against the 2020-12 metaschema: ~0.1 s each
@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_schema_is_one_self_contained_document_a_plain_validator_applies(strict: bool) -> None:
    from referencing import Registry

    for etype in WITH_SCHEMA:
        result = invoke("schema", etype, *(["--strict"] if strict else []))
        assert result.exit_code == 0
        document = orjson.loads(result.stdout)
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert all(ref.startswith("#/$defs/") for ref in refs(document)), etype
        jsonschema.Draft202012Validator.check_schema(document)
        validator = jsonschema.Draft202012Validator(
            document, registry=Registry(retrieve=no_retrieval), format_checker=jsonschema.FormatChecker()
        )
        data = samples.sample(etype)["data"]
        if not strict:  # the bundled samples are what Voucherify sends: default accepts them
            assert list(validator.iter_errors(data)) == [], etype
        if etype == "voucher.published":  # and a broken payload fails, with only this document
            assert not validator.is_valid({**data, "voucher": {**data["voucher"], "code": 12345}})


def test_an_envelope_schema_applies_to_a_whole_payload() -> None:
    document = orjson.loads(invoke("schema", "envelope/v2024").stdout)
    validator = jsonschema.Draft202012Validator(document)
    assert validator.is_valid(samples.sample("voucher.published"))
    assert not validator.is_valid({**samples.sample("voucher.published"), "id": 1})


def test_every_bundled_schema_file_has_its_id_and_tools_resolve_by_it() -> None:
    from referencing import Registry, Resource

    files = sorted(p for level in ("default", "strict", "legacy") for p in (REPO / "schemas" / level).rglob("*.json"))
    assert len(files) > 200
    resources_by_id = []
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["$id"] == resources.SCHEMA_ID_BASE + path.relative_to(REPO / "schemas").as_posix()
        resources_by_id.append(Resource.from_contents(document))
    # another tool, loading the files by their ids alone (no paths), resolves every reference
    registry = Registry().with_resources((r.id(), r) for r in resources_by_id)  # type: ignore[misc]
    schema = {"$ref": resources.schema_id("default/data/voucher.published.json")}
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    assert validator.is_valid(samples.sample("voucher.published")["data"])
    assert not validator.is_valid({**samples.sample("voucher.published")["data"], "voucher": 1})


def test_schema_list_and_usage() -> None:
    listed = invoke("schema", "--list").stdout.splitlines()
    envelopes = [f"envelope/{d.name}" for d in dialects.DIALECTS.values() if d.envelope]
    assert listed == [*WITH_SCHEMA, *envelopes, "facts", "report"]
    for name in listed[-3:]:
        assert invoke("schema", name).exit_code == 0
    result = invoke("schema")
    assert result.exit_code == 2 and "vevents schema --list" in result.stderr


# --- did you mean -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("sample", "voucher.publishd"),
        ("schema", "voucher.publishd"),
        ("show", "--as", "voucher.publishd", "-"),
        ("validate", "--as", "voucher.publishd", "-"),
        ("stats", "--as", "voucher.publishd", "-"),
    ],
)
def test_a_misspelt_type_gets_a_suggestion(args: tuple[str, ...]) -> None:
    result = invoke(*args, input=b"{}")
    assert result.exit_code == 2
    assert "did you mean voucher.published" in " ".join(result.stderr.split())


def test_a_type_glob_that_matches_no_type_gets_a_note_not_an_error(tmp_path) -> None:
    log = tmp_path / "log.ndjson"
    log.write_bytes(orjson.dumps(samples.sample("voucher.published")) + b"\n")
    result = invoke("show", "--format", "json", "--type", "voucher.publishd", "--allow-empty", str(log))
    assert result.exit_code == 0
    assert "--type 'voucher.publishd' matches no known event type (did you mean voucher.published" in result.stderr
    assert "did you mean" not in invoke("show", "--type", "voucher.*", str(log)).stderr


# --- shell completion ---------------------------------------------------------------------------


def complete(*words: str) -> list[str]:
    """What bash completion offers for the last word (the completion env var protocol)."""
    line = ["vevents", *words]
    env = {
        "_VEVENTS_COMPLETE": "complete_bash",
        "COMP_WORDS": " ".join(line),
        "COMP_CWORD": str(len(line) - 1),
    }
    proc = run(text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("sample", "voucher.pub"), ["voucher.published"]),
        (("schema", "envelope/"), sorted(f"envelope/{d.name}" for d in dialects.DIALECTS.values() if d.envelope)),
        (("show", "--as", "customer.rewarded."), ["customer.rewarded.loyalty_points"]),
        (("validate", "--type", "customer.confirm"), ["customer.confirmed"]),
        (("sample", "voucher.published", "--dialect", ""), list(dialects.NAMES)),
    ],
)
def test_types_and_dialects_complete_in_the_shell(words: tuple[str, ...], expected: list[str]) -> None:
    assert sorted(complete(*words)) == sorted(expected)


def test_your_schemas_may_refer_to_ours_by_id_without_fetching(tmp_path) -> None:
    mine = tmp_path / "schemas"
    mine.mkdir()
    ours = resources.schema_id("default/data/voucher.published.json")
    (mine / "voucher.published.json").write_bytes(orjson.dumps({"allOf": [{"$ref": ours}], "required": ["voucher"]}))
    event = samples.sample("voucher.published")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(orjson.dumps(event))
    bad.write_bytes(orjson.dumps({**event, "data": {**event["data"], "voucher": {"x": 1}}}))
    assert invoke("validate", "--schemas", str(mine), str(good)).exit_code == 0
    result = invoke("validate", "--schemas", str(mine), str(bad))
    assert result.exit_code == 1 and "/data/voucher/code: required member is missing" in result.stdout
