"""Conformance of the generated schemas/ with the vendor's OpenAPI webhooks file."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vevents_cli import resources

try:
    from scripts import generate_schemas as gen
    from scripts import vendor
except ModuleNotFoundError:  # no conftest put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from scripts import generate_schemas as gen
    from scripts import vendor

if not vendor.available():
    pytest.skip(
        "../shared/vendor/voucherify not present: vendor conformance tests skipped",
        allow_module_level=True,
    )

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "generate_schemas.py"
STRICT_VALID = 9  # vendor examples valid against the literal spec; change noticed on purpose
EXAMPLES = dict(vendor.examples())
OVERRIDES = gen.load_overrides()
ENVELOPE_EXTRA = {
    "id": "whs_1",
    "project_id": "proj_1",
    "created_at": "2024-01-01T00:00:00.000Z",
}


@pytest.fixture(scope="module")
def files() -> gen.Files:
    return gen.build()


def is_valid(files: gen.Files, rel: str, instance: Any) -> bool:
    return gen.validator(files, rel).is_valid(instance)


def wrapped(etype: str, example: Any, source_object: str, outer_type: str) -> dict[str, Any]:
    return {
        **ENVELOPE_EXTRA,
        "type": outer_type,
        "data": example,
        "source": {"id": "wh_1", "object": source_object, "target_url": "https://example.com/hook"},
        "event": {
            "id": "evt_1",
            "type": etype,
            "created_at": "2024-01-01T00:00:00.000Z",
            "entity_id": "x",
            "group_id": "v-1",
            "event_source": {"channel": "API"},
        },
    }


# --------------------------------------------------------------------------- generation


def test_schemas_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generation_is_deterministic(tmp_path: Path) -> None:
    def run(out: Path) -> dict[str, bytes]:
        subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, cwd=REPO)
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.json")}

    first = run(tmp_path / "a")
    assert first == run(tmp_path / "a")
    assert first == run(tmp_path / "b")
    assert len(first) == 3 * (72 + 4) + 2  # + shapes.json, analysis.json


def test_catalogue_matches_vendor() -> None:
    assert sorted(EXAMPLES) == sorted(gen.SCHEMA_TYPES)


# --------------------------------------------------------------------------- data


@pytest.mark.parametrize("etype", sorted(EXAMPLES))
def test_vendor_example_valid_at_default_level(files: gen.Files, etype: str) -> None:
    errors = list(gen.validator(files, f"default/data/{etype}.json").iter_errors(EXAMPLES[etype]))
    assert not errors, [e.message[:200] for e in errors]


@pytest.mark.parametrize("level", ["default", "legacy"])
def test_all_vendor_examples_valid(files: gen.Files, level: str) -> None:
    invalid = [t for t, ex in EXAMPLES.items() if not is_valid(files, f"{level}/data/{t}.json", ex)]
    assert invalid == []


def test_strict_count(files: gen.Files) -> None:
    n = sum(is_valid(files, f"strict/data/{t}.json", ex) for t, ex in EXAMPLES.items())
    print(f"strict: {n}/72 vendor examples valid")
    assert n == STRICT_VALID


@pytest.mark.parametrize("index", range(len(OVERRIDES)), ids=[f"{o['component']}{o['pointer']}" for o in OVERRIDES])
def test_override_is_necessary(index: int) -> None:
    entry = OVERRIDES[index]
    evidence = entry["evidence"]
    without = gen.build(overrides=OVERRIDES[:index] + OVERRIDES[index + 1 :])
    example = EXAMPLES[evidence["type"]]
    if "value" in evidence:
        assert resolve(example, evidence["at"]) == evidence["value"]
    assert not is_valid(without, f"default/data/{evidence['type']}.json", example)


def test_override_pointer_must_exist() -> None:
    bad = [dict(OVERRIDES[0], pointer="/properties/no_such_member")]
    with pytest.raises(SystemExit, match="does not apply"):
        gen.build(overrides=bad)


def resolve(instance: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        instance = instance[int(token)] if isinstance(instance, list) else instance[token]
    return instance


# --------------------------------------------------------------------------- envelopes


@pytest.mark.parametrize("etype", sorted(EXAMPLES))
def test_wrapped_examples_valid(files: gen.Files, etype: str) -> None:
    example = EXAMPLES[etype]
    v2024 = wrapped(etype, example, "webhook", etype)
    assert is_valid(files, "default/envelope/v2024.json", v2024)
    distribution = wrapped(etype, example, "distribution", "My distribution event")
    assert is_valid(files, "default/envelope/distribution.json", distribution)
    assert not is_valid(files, "default/envelope/v2024.json", distribution)


def test_v2024_envelope_rejects_unknown_type(files: gen.Files) -> None:
    payload = wrapped("voucher.published", {}, "webhook", "no.such.type")
    assert not is_valid(files, "default/envelope/v2024.json", payload)


def test_legacy_examples(files: gen.Files) -> None:
    examples = vendor.legacy_examples()
    assert len(examples) == 7
    for title, payload in examples:
        assert is_valid(files, "default/envelope/legacy.json", payload), title
        assert is_valid(files, "legacy/envelope/legacy.json", payload), title
    strict = [is_valid(files, "strict/envelope/legacy.json", p) for _t, p in examples]
    assert not all(strict)


def test_legacy_envelope_negative(files: gen.Files) -> None:
    _title, payload = vendor.legacy_examples()[1]
    bad = copy.deepcopy(payload)
    bad["object"] = "webhook"
    assert not is_valid(files, "default/envelope/legacy.json", bad)
    bad = copy.deepcopy(payload)
    del bad["data"]["related_object"]["data"]
    assert not is_valid(files, "default/envelope/legacy.json", bad)


# --------------------------------------------------------------------------- files


def schema_nodes(node: Any) -> Any:
    """Every schema object (not property names) within a generated file."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties", "patternProperties", "$defs"):
                for sub in value.values():
                    yield from schema_nodes(sub)
            elif key not in ("enum", "const", "required"):
                yield from schema_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from schema_nodes(value)


def test_files_are_clean() -> None:
    paths = sorted((REPO / "schemas").rglob("*.json"))
    assert paths
    for path in paths:
        if path.name in ("overrides.json", "shapes.json", "analysis.json") or path.parent.name == "output":
            continue  # not generated: the project's own (output/: the schemas of vevents' JSON output)
        document = json.loads(path.read_text(encoding="utf-8"))
        rel = path.relative_to(REPO / "schemas").as_posix()
        assert document.pop("$id") == resources.schema_id(rel)  # its own, only at the root
        for node in schema_nodes(document):
            forbidden = {"description", "example", "examples", "title", "nullable", "$id"}
            assert not forbidden & node.keys(), (path, forbidden & node.keys())
            ref = node.get("$ref")
            assert ref is None or (isinstance(ref, str) and "http" not in ref), (path, ref)
            assert ref is None or len(node) == 1 or path.name != "defs.json", (path, node)
            assert not {"prefixItems", "unevaluatedProperties", "dependentRequired"} & node.keys()


def test_shapes(files: gen.Files) -> None:
    shapes = files["shapes.json"]
    assert sorted(shapes) == sorted(EXAMPLES)
    assert "voucher" in shapes["voucher.published"]["properties"]
    for shape in shapes.values():
        assert set(shape["required"]) <= set(shape["properties"])


# --------------------------------------------------------------------------- negatives


def test_negative_default(files: gen.Files) -> None:
    rel = "default/data/voucher.published.json"
    example = EXAMPLES["voucher.published"]
    assert is_valid(files, rel, example)
    as_array = dict(example, voucher=[example["voucher"]])
    assert not is_valid(files, rel, as_array)
    required = gen.vendor.load_spec()["components"]["schemas"]["VoucherTransaction"]["required"]
    member = required[0]
    tx_example = EXAMPLES["voucher.loyalty_card.transaction.created"]
    without = copy.deepcopy(tx_example)
    del without["transaction"][member]
    rel = "default/data/voucher.loyalty_card.transaction.created.json"
    assert is_valid(files, rel, tx_example)
    assert not is_valid(files, rel, without)


def test_legacy_level_drops_required(files: gen.Files) -> None:
    rel = "legacy/data/voucher.loyalty_card.transaction.created.json"
    assert is_valid(files, rel, {"transaction": {}})
    assert not is_valid(files, rel, {"transaction": {"id": 5}})


# --------------------------------------------------------------------------- oneOf analysis


@pytest.mark.parametrize("level", ["default", "legacy"])
def test_remaining_one_of_are_disjoint(files: gen.Files, level: str) -> None:
    """Every oneOf left at the default and legacy levels has pairwise disjoint branches."""
    analyser = gen.Analyser(files[f"{level}/defs.json"])
    remaining = [
        (rel, pointer)
        for rel in files
        if rel.startswith(level + "/")
        for pointer, _node in gen.one_of_nodes(files[rel])
    ]
    for rel, pointer in remaining:
        branches = gen.resolve_pointer(files[rel], pointer)["oneOf"]
        for i, a in enumerate(branches):
            for b in branches[i + 1 :]:
                assert analyser.overlap(a, b) is None, (rel, pointer, i)
    assert remaining, "expected some discriminated oneOf to stay"


def test_analysis_file_lists_every_conversion(files: gen.Files) -> None:
    analysis = files[gen.ANALYSIS_FILE]["oneof_to_anyof"]
    assert sorted(analysis) == ["default", "legacy"]  # strict keeps the vendor's oneOf
    for level, conversions in analysis.items():
        assert conversions
        for entry in conversions:
            assert entry["file"].startswith(level + "/") and entry["reason"]
            branches = gen.resolve_pointer(files[entry["file"]], entry["pointer"])
            assert entry["pointer"].endswith("/anyOf") and isinstance(branches, list)
    strict, default = (
        sum(1 for rel in files if rel.startswith(lv + "/") for _ in gen.one_of_nodes(files[rel]))
        for lv in ("strict", "default")
    )
    assert strict == default + len(analysis["default"])
    print(f"oneOf -> anyOf: {len(analysis['default'])} default, {len(analysis['legacy'])} legacy")


def test_one_of_overrides_are_gone() -> None:
    """The analysis finds the overlapping oneOf; no override is needed for them."""
    assert not [o for o in OVERRIDES if o["action"] == "oneof_to_anyof"]
    assert len(OVERRIDES) == 46


def test_analyser_rule() -> None:
    defs = {
        "$defs": {
            "Coupon": {"type": "object", "properties": {"type": {"const": "COUPON"}}, "required": ["type"]},
            "Gift": {"type": "object", "properties": {"type": {"enum": ["GIFT", None]}}, "required": ["type"]},
            "Loose": {"type": "object", "properties": {"type": {"const": "COUPON"}}},
        }
    }
    analyser = gen.Analyser(defs)
    ref = {
        "Coupon": {"$ref": "#/$defs/Coupon"},
        "Gift": {"$ref": "../defs.json#/$defs/Gift"},
        "Loose": {"$ref": "#/$defs/Loose"},
    }
    assert analyser.overlap(ref["Coupon"], ref["Gift"]) is None  # disjoint discriminator
    assert analyser.overlap(ref["Coupon"], ref["Loose"]) is not None  # not required: overlap
    assert analyser.overlap({"type": "string"}, ref["Loose"]) is None  # string vs object
    assert analyser.overlap({"type": "integer"}, {"type": "number"}) is not None
    assert analyser.overlap({"enum": ["a", "b"]}, {"type": "string", "enum": ["b"]}) is not None
    assert analyser.overlap({"enum": ["a"]}, {"type": "string", "enum": ["b"]}) is None
    assert analyser.overlap({"allOf": [ref["Coupon"], {"type": "object"}]}, ref["Gift"]) is None
    nested = {"type": "object", "required": ["tx"], "properties": {"tx": {"anyOf": [ref["Coupon"], {"type": "null"}]}}}
    other = {"type": "object", "required": ["tx"], "properties": {"tx": ref["Gift"]}}
    # A union keeps only what all its branches require: said to overlap (sound, not complete).
    assert analyser.overlap(nested, other) is not None
    assert analyser.one_of([{"type": "string"}, {"type": "object"}, {"type": "array"}]) is None
