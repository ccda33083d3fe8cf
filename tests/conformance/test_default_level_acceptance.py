"""Acceptance by generation: the default level accepts what its own schemas describe.

Instances are generated from every default-level data schema, one factor at a time: a
base instance (every member present down to a depth), then one variant per branch of
each anyOf/oneOf, per enum value, and per optional member absent or null, each changed
alone from the base. They are wrapped in every dialect the type is documented for and
validated by the real CLI, one run per NDJSON log. The vendor's examples are checked the
same way with members removed and unknown members added, and over every sample and
vendor example whatever `--strict` accepts, the default level accepts too.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from scripts import vendor
from scripts.generate_samples import Placeholder, merge
from tests.helpers import invoke, needs_vendor, vendor_examples, write_ndjson
from vevents_cli import resources
from vevents_cli.samples import sample, wrap
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

DEFAULT = resources.schemas_dir() / "default"
DEFS = orjson.loads((DEFAULT / "defs.json").read_bytes())["$defs"]
ENVELOPED = ("v2024", "distribution", "legacy")
BASE_DEPTH = 6  # below this, optional members are left out of the base instance
VARIANT_DEPTH = 2  # below this, no variants (the base value only)
WHEN = {"date-time": "2026-03-14T09:26:53.589Z", "date": "2026-03-14", "time": "09:26:53Z"}
# Strings tried, in order, for a `pattern` (the overrides' documented deviant spellings).
PATTERN_CANDIDATES = ("x", *WHEN.values(), "2026-03-14T09: 26: 53.589Z")
UNKNOWN = {"vevents_unknown_member": {"nested": [1, "two", None]}}


# --------------------------------------------------------------------------- generation


def _deref(schema: Any) -> Any:
    seen = 0
    while isinstance(schema, dict) and set(schema) == {"$ref"} and seen < 50:
        schema, seen = DEFS[schema["$ref"].rsplit("/", 1)[-1]], seen + 1
    return schema


class _Fill(Placeholder):
    """A required member whose shape the part requiring it does not declare: any value an
    allOf sibling gives it wins, else it becomes `filled`."""

    def __init__(self, name: str) -> None:
        self.filled = WHEN["date-time"] if name.endswith("_at") else "x"


def _filled(value: Any) -> Any:
    if isinstance(value, _Fill):
        return value.filled
    if isinstance(value, dict):
        return {k: _filled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v) for v in value]
    return value


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return ["object"] if "properties" in schema else []
    return [kind] if isinstance(kind, str) else list(kind)


def _scalar(kind: str, schema: dict[str, Any]) -> Any:
    if kind == "string":
        if "format" in schema:
            return WHEN.get(schema["format"], "x")
        if "pattern" in schema:
            return next(c for c in PATTERN_CANDIDATES if re.search(schema["pattern"], c))
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1)
        return max(1, low) if "maximum" not in schema else min(max(1, low), schema["maximum"])
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return None


def _all_required(schema: Any) -> frozenset[str]:
    """Members required by the schema itself or any allOf part (through $ref)."""
    schema = _deref(schema)
    if not isinstance(schema, dict):
        return frozenset()
    out = frozenset(schema.get("required", ()))
    if "$ref" in schema:
        out |= _all_required({"$ref": schema["$ref"]})
    for part in schema.get("allOf", ()):
        out |= _all_required(part)
    return out


def variants(schema: Any, depth: int = 0, required: frozenset[str] = frozenset()) -> list[Any]:
    """Values for `schema`: the base first, then one alternative per factor changed alone.
    `required` names members that enclosing allOf parts require (never removed or null)."""
    schema = _deref(schema)
    if not isinstance(schema, dict) or schema == {}:
        return ["x"]
    required = required | _all_required(schema)
    if "$ref" in schema:  # beside other keywords: both apply
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _combine([variants({"$ref": schema["$ref"]}, depth, required), variants(rest, depth, required)], depth)
    parts = [variants(part, depth, required) for part in schema.get("allOf", ())]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [variants(b, depth, required) for b in schema[key]]
            options = [v for b in branches for v in (b if depth < VARIANT_DEPTH else b[:1])]
            # the base is the first branch that is not null
            options.sort(key=lambda v: v is None)
            parts.append(_dedupe(options))
    rest = {k: v for k, v in schema.items() if k not in ("allOf", "anyOf", "oneOf")}
    if parts and not (set(rest) & {"properties", "enum", "const", "items"}):
        return _combine(parts, depth) if len(parts) > 1 else parts[0]
    own = _own(rest, depth, required)
    return _combine([own, *parts], depth) if parts else own


def _own(schema: dict[str, Any], depth: int, required: frozenset[str]) -> list[Any]:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        values = sorted(schema["enum"], key=lambda v: v is None)
        return values if depth < VARIANT_DEPTH else values[:1]
    kinds = _types(schema)
    non_null = [k for k in kinds if k != "null"]
    extra = [None] if "null" in kinds and depth < VARIANT_DEPTH else []
    if not non_null:
        return [None] if kinds else ["x"]
    kind = non_null[0]
    if kind == "object":
        return _object(schema, depth, required) + extra
    if kind == "array":
        if "items" not in schema or depth >= BASE_DEPTH:
            return [[], *extra]
        items = variants(schema["items"], depth + 1)
        out = [[items[0]]] + ([[v] for v in items[1:]] + [[]] if depth < VARIANT_DEPTH else [])
        return out + extra
    return [_scalar(kind, schema), *extra]


def _object(schema: dict[str, Any], depth: int, required: frozenset[str]) -> list[Any]:
    props = schema.get("properties", {})
    members = {name: sub for name, sub in props.items() if name in required or depth < BASE_DEPTH}
    values = {name: variants(sub, depth + 1) for name, sub in members.items()}
    base = {name: vs[0] for name, vs in values.items()}
    own_required = set(schema.get("required", ()))
    for name in sorted(own_required - props.keys()):  # required, shape not declared
        base[name] = _Fill(name)
    out = [base]
    if depth < VARIANT_DEPTH:
        for name, vs in values.items():
            out.extend({**base, name: v} for v in vs[1:])
            if name not in required and name not in own_required:
                out.append({k: v for k, v in base.items() if k != name})
                out.append({**base, name: None})
    return _dedupe(out)


def _combine(parts: list[list[Any]], depth: int) -> list[Any]:
    """allOf: the bases merged, then each part's alternatives with the others' bases."""
    bases = [p[0] for p in parts]
    base = functools.reduce(merge, bases, None)
    out = [base]
    if depth < VARIANT_DEPTH:
        for i, part in enumerate(parts):
            for alt in part[1:]:
                others = [*bases[:i], alt, *bases[i + 1 :]]
                out.append(functools.reduce(merge, others, None) if alt is not None else None)
    return _dedupe(out)


def _dedupe(values: list[Any]) -> list[Any]:
    seen, out = set(), []
    for v in values:
        key = orjson.dumps(_filled(v), option=orjson.OPT_SORT_KEYS)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


@functools.cache
def generated(etype: str) -> list[dict[str, Any]]:
    data = orjson.loads((DEFAULT / "data" / f"{etype}.json").read_bytes())
    return [_filled(v) for v in variants({"$ref": data["$ref"]}) if isinstance(v, dict)]


def distribution_types() -> set[str]:
    if not vendor.docs_available():
        return set(SCHEMA_TYPES)
    lists = vendor.documented_types(vendor.DISTRIBUTION_PAGE)
    return {name for names in lists.values() for name in names}


def dialects(etype: str) -> tuple[str, ...]:
    """v2024, legacy and bare for every type; distribution for the types it documents."""
    return tuple(d for d in ENVELOPED if d != "distribution" or etype in distribution_types())


# --------------------------------------------------------------------------- running


def validate_log(tmp_path: Path, name: str, events: list[Any], *args: str) -> list[str]:
    """Run `vevents validate --format json` over one log; the failures, described."""
    log = write_ndjson(tmp_path / f"{name}.ndjson", events)
    report = orjson.loads(invoke("validate", "--format", "json", *args, str(log)).stdout)
    assert len(report["events"]) == len(events) and not report["unreadable"]
    return [
        f"{name}:{e['line']} {e['type']}: {[(x['path'], x['message'][:90]) for x in e['errors'][:2]]}"
        for e in report["events"]
        if not e["valid"]
    ]


@pytest.mark.heavy  # a sweep: every branch, enum value and optional member of every schema
def test_generation_is_bounded() -> None:
    counts = {t: len(generated(t)) for t in SCHEMA_TYPES}
    print(f"generated: {sum(counts.values())} instances, at most {max(counts.values())} per type")
    assert all(n > 1 for n in counts.values())
    assert sum(counts.values()) < 40_000


@pytest.mark.heavy  # a sweep: every branch, enum value and optional member of every schema
@pytest.mark.parametrize("dialect", ENVELOPED)
def test_default_accepts_generated_instances(tmp_path: Path, dialect: str) -> None:
    events = [wrap(data, t, dialect) for t in SCHEMA_TYPES if dialect in dialects(t) for data in generated(t)]
    failures = validate_log(tmp_path, dialect, events)
    assert not failures, f"{len(failures)}/{len(events)} refused:\n" + "\n".join(failures[:15])


@pytest.mark.heavy  # a sweep: every branch, enum value and optional member of every schema
def test_default_accepts_generated_bare_instances(tmp_path: Path) -> None:
    failures: list[str] = []
    for etype in SCHEMA_TYPES:
        failures += validate_log(tmp_path, etype, generated(etype), "--as", etype)
    assert not failures, f"{len(failures)} refused:\n" + "\n".join(failures[:15])


# --------------------------------------------------------------------------- vendor examples


def _required(etype: str) -> tuple[set[str], dict[str, set[str]]]:
    """Members the default schema requires (top level, and of each top-level object)."""
    from tests.conformance.test_vendor_mutations import data_schema, resolve

    schema = data_schema(etype)
    inner = {name: set(resolve(sub)["required"]) for name, sub in schema["properties"].items()}
    return set(schema["required"]), inner


def optional_trims(etype: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    top, inner = _required(etype)
    out = [{**data, **UNKNOWN}]
    for name, value in data.items():
        if name not in top:
            out.append({k: v for k, v in data.items() if k != name})
        if isinstance(value, dict):
            out.append({**data, name: {**value, **UNKNOWN}})
            for member in value:
                if member not in inner.get(name, set()):
                    out.append({**data, name: {k: v for k, v in value.items() if k != member}})
    return out


@needs_vendor
@pytest.mark.parametrize("dialect", [*ENVELOPED, "bare"])
def test_vendor_examples_without_optional_members_or_with_unknown_ones(tmp_path: Path, dialect: str) -> None:
    failures: list[str] = []
    if dialect == "bare":
        for etype, data in vendor_examples():
            failures += validate_log(tmp_path, etype, optional_trims(etype, data), "--as", etype)
    else:
        events = [
            wrap(v, t, dialect)
            for t, data in vendor_examples()
            if dialect in dialects(t)
            for v in optional_trims(t, data)
        ]
        failures = validate_log(tmp_path, dialect, events)
    assert not failures, f"{len(failures)} refused:\n" + "\n".join(failures[:15])


# --------------------------------------------------------------------------- strict => default


def _corpus() -> list[tuple[str, dict[str, Any]]]:
    out = [(t, sample(t)["data"]) for t in SCHEMA_TYPES]
    return out + [(t, copy.deepcopy(d)) for t, d in vendor_examples()]


@pytest.mark.parametrize("dialect", [*ENVELOPED, "bare"])
def test_default_accepts_whatever_strict_accepts(tmp_path: Path, dialect: str) -> None:
    """Over every sample and vendor example, bare and in each envelope: never stricter."""
    corpus = _corpus()
    if dialect == "bare":
        refused = []
        for etype, data in corpus:
            strict = invoke("validate", "--strict", "-q", "--as", etype, input=orjson.dumps(data)).exit_code
            default = invoke("validate", "-q", "--as", etype, input=orjson.dumps(data)).exit_code
            if strict == 0 and default != 0:
                refused.append(etype)
        assert refused == []
        return
    events = [wrap(d, t, dialect) for t, d in corpus]
    log = write_ndjson(tmp_path / f"{dialect}.ndjson", events)
    strict = orjson.loads(invoke("validate", "--strict", "--format", "json", str(log)).stdout)["events"]
    default = orjson.loads(invoke("validate", "--format", "json", str(log)).stdout)["events"]
    refused = [
        f"{s['line']} {s['type']}" for s, d in zip(strict, default, strict=True) if s["valid"] and not d["valid"]
    ]
    print(f"{dialect}: strict accepts {sum(s['valid'] for s in strict)}/{len(events)}")
    assert refused == []


# --------------------------------------------------------------------------- known failures


@pytest.mark.parametrize(
    "parameters",
    [
        {"product": {"id": "prod_0a1b2c3d", "sku_id": None}},  # a MATERIAL reward
        {"coin": {"exchange_ratio": 1, "points_ratio": 1}},  # a COIN reward
        {"campaign": {"id": "camp_0a1b2c3d", "balance": 500, "type": "GIFT_VOUCHERS"}},
    ],
    ids=["material", "coin", "campaign"],
)
def test_customer_rewarded_reward_parameters(tmp_path: Path, parameters: dict[str, Any]) -> None:
    """The CAMPAIGN, COIN and MATERIAL branches of the reward parameters require nothing:
    a real reward matched several of them and was refused ("more than one ... (oneOf)")."""
    shown = invoke("sample", "customer.rewarded")
    assert shown.exit_code == 0
    event = orjson.loads(shown.stdout)
    event["data"]["reward"]["parameters"] = parameters
    path = tmp_path / "customer.rewarded.json"
    path.write_bytes(orjson.dumps(event))
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.stdout
    assert "oneOf" not in result.stdout
    assert result.stdout.strip().endswith("1 valid, 0 invalid, 0 unreadable")
