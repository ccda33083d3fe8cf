"""Generate the JSON Schemas in schemas/ from the vendor's OpenAPI webhooks file.

Three levels are written:

* strict  - the vendor spec literally (OpenAPI 3.1 converted to JSON Schema 2020-12);
* default - what Voucherify actually sends: optional members accept null, unknown members
            are accepted, the envelope's type enums cover the whole catalogue, and the
            evidence-based relaxations of schemas/overrides.json are applied;
* legacy  - the default level without any `required`.

At the default and legacy levels every `oneOf` whose branches can match the same instance
is turned into `anyOf` (see `analyse_one_of`); the conversions are listed, with their
reason, in schemas/analysis.json. `--strict` keeps the vendor's `oneOf`.

Only keywords whose meaning is the same in draft 7 and draft 2020-12 are emitted, all refs
are relative, every file has an `$id` (`resources.schema_id`: where the file lives in the
repository, so other tools can load the files), and the output is deterministic.

    python scripts/generate_schemas.py            # write schemas/
    python scripts/generate_schemas.py --check    # exit 1 when schemas/ is out of date
    python scripts/generate_schemas.py --out DIR  # write elsewhere (tests)

The vendor's files are read from ../shared/vendor/voucherify (or VEVENTS_VENDOR_DIR); when the
OpenAPI file is missing the script says so in one line and exits 2.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

try:
    from scripts import vendor
except ModuleNotFoundError:  # run as a script: put the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from scripts import vendor
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from vevents_cli.jsonout import json_type
from vevents_cli.resources import schema_id
from vevents_cli.voucherify.catalogue import ALIASES, EXTRA_TYPES, SCHEMA_TYPES

Json = Any
Files = dict[str, Json]

SCHEMAS_DIR = vendor.REPO / "schemas"
OVERRIDES_FILE = "overrides.json"
ANALYSIS_FILE = "analysis.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
LEVELS = ("strict", "default", "legacy")
COMPONENT_REF = "#/components/schemas/"
DEFS_REF = "#/$defs/"
DEFS_FILE_REF = "../defs.json"

# Keywords holding one subschema, a map of subschemas, or a list of subschemas.
SCHEMA_KEYWORDS = frozenset({"items", "not", "contains", "propertyNames", "if", "then", "else"})
MAP_KEYWORDS = frozenset({"properties", "patternProperties"})
LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf"})
COMBINATORS = frozenset({"$ref"}) | LIST_KEYWORDS
# Validation keywords with the same meaning in draft 7 and draft 2020-12, kept as they are.
VALUE_KEYWORDS = frozenset(
    {
        "$ref", "type", "enum", "const", "format", "required", "pattern",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "minItems", "maxItems", "uniqueItems",
        "minProperties", "maxProperties",
    }
)  # fmt: skip
# Annotations and OpenAPI leftovers, dropped silently (`nullable` is handled separately).
DROPPED_KEYWORDS = frozenset(
    {
        "description", "example", "examples", "title", "default", "deprecated",
        "readOnly", "writeOnly", "xml", "externalDocs", "discriminator", "nullable",
        "$comment",
    }
)  # fmt: skip


def dump(obj: Json) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- conversion


class Converter:
    """OpenAPI 3.1 schema objects -> JSON Schema for one level."""

    def __init__(self, level: str) -> None:
        self.level = level
        self.dropped: Counter[str] = Counter()

    def schema(self, node: Json, optional: bool = False) -> Json:
        """Convert one schema; `optional` marks a property its parent does not require."""
        if not isinstance(node, dict):
            return node
        out: dict[str, Json] = {}
        for key, value in node.items():
            self._keyword(out, node, key, value)
        if self.level != "strict" and out.get("additionalProperties") is False:
            del out["additionalProperties"]
        if self.level == "legacy":
            out.pop("required", None)
        out = ref_without_siblings(out)
        if node.get("nullable") is True or (optional and self.level != "strict"):
            out = nullable(out)
        return out

    def _keyword(self, out: dict[str, Json], node: Json, key: str, value: Json) -> None:
        if key in MAP_KEYWORDS:
            # At the legacy level nothing is required, so every member is optional (nullable).
            required = set() if self.level == "legacy" else set(node.get("required", ()))
            out[key] = {name: self.schema(sub, optional=name not in required) for name, sub in value.items()}
        elif key in LIST_KEYWORDS:
            out[key] = [self.schema(sub) for sub in value]
        elif key in SCHEMA_KEYWORDS or key == "additionalProperties":
            out[key] = self.schema(value)
        elif key == "$ref":
            out[key] = DEFS_REF + component_name(value)
        elif key in VALUE_KEYWORDS:
            out[key] = copy.deepcopy(value)
        elif key not in DROPPED_KEYWORDS and not key.startswith("x-"):
            self.dropped[key] += 1


def component_name(ref: str) -> str:
    if not ref.startswith(COMPONENT_REF):
        raise ValueError(f"unsupported $ref {ref!r}")
    return ref[len(COMPONENT_REF) :]


def ref_without_siblings(schema: dict[str, Json]) -> dict[str, Json]:
    """Draft 7 ignores keywords beside $ref: move such a $ref into allOf."""
    if "$ref" not in schema or len(schema) == 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "$ref"}
    rest["allOf"] = [{"$ref": schema["$ref"]}, *rest.get("allOf", [])]
    return rest


def accepts_null(schema: dict[str, Json]) -> bool:
    types = schema.get("type")
    if types is not None:
        return "null" in ([types] if isinstance(types, str) else types)
    if {"type": "null"} in schema.get("anyOf", ()):
        return True
    return not (COMBINATORS | {"enum", "const"}) & schema.keys()


def nullable(schema: dict[str, Json]) -> dict[str, Json]:
    """Let `schema` also accept null."""
    if accepts_null(schema):
        return schema
    if "type" not in schema or (COMBINATORS | {"const"}) & schema.keys():
        return {"anyOf": [schema, {"type": "null"}]}
    types = schema["type"]
    out = dict(schema, type=[*([types] if isinstance(types, str) else types), "null"])
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def relative_refs(node: Json, prefix: str) -> Json:
    """Prefix every local $ref (for files beside defs.json)."""
    if isinstance(node, dict):
        return {k: prefix + v if k == "$ref" else relative_refs(v, prefix) for k, v in node.items()}
    if isinstance(node, list):
        return [relative_refs(v, prefix) for v in node]
    return node


def refs_in(node: Json) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def reachable(components: dict[str, Json], roots: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(component_name(ref) for ref in refs_in(components[name]))
    return sorted(seen)


# --------------------------------------------------------------------------- overrides


def load_overrides(path: Path = SCHEMAS_DIR / OVERRIDES_FILE) -> list[dict[str, Json]]:
    overrides: list[dict[str, Json]] = json.loads(path.read_text(encoding="utf-8"))["overrides"]
    return overrides


def resolve_pointer(node: Json, pointer: str) -> Json:
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(f"pointer {pointer!r}: no {token!r}")
    return node


def _unrequire(target: dict[str, Json], value: Json) -> None:
    if value not in target.get("required", ()):
        raise ValueError(f"{value!r} is not required there")
    target["required"] = [name for name in target["required"] if name != value]
    if not target["required"]:
        del target["required"]


def _add_enum(target: dict[str, Json], value: Json) -> None:
    if "enum" not in target or value in target["enum"]:
        raise ValueError(f"no enum there, or {value!r} is in it already")
    target["enum"] = [*target["enum"], value]


def _add_type(target: dict[str, Json], value: Json) -> None:
    types = target.get("type")
    if types is None or value in ([types] if isinstance(types, str) else types):
        raise ValueError(f"no type there, or {value!r} is in it already")
    target["type"] = [types, value] if isinstance(types, str) else [*types, value]


def _any_of(target: dict[str, Json], value: Json) -> None:
    inner = dict(target)
    target.clear()
    target["anyOf"] = [inner, copy.deepcopy(value)]


def _enum_to_items(target: dict[str, Json], _value: Json) -> None:
    if target.get("type") != "array" or "enum" not in target or "items" in target:
        raise ValueError("not an array schema with an enum and no items")
    target["items"] = {"type": "string", "enum": target.pop("enum")}


def _allow_pattern(target: dict[str, Json], value: Json) -> None:
    """Keep the declared format, and also admit strings of one documented deviant spelling."""
    if "format" not in target:
        raise ValueError("no format there")
    inner = dict(target)
    target.clear()
    target["anyOf"] = [inner, {"type": "string", "pattern": value}]


ACTIONS: dict[str, Callable[[dict[str, Json], Json], None]] = {
    "allow_pattern": _allow_pattern,
    "unrequire": _unrequire,
    "add_enum": _add_enum,
    "add_type": _add_type,
    "any_of": _any_of,
    "enum_to_items": _enum_to_items,
}


def apply_overrides(components: dict[str, Json], overrides: list[dict[str, Json]]) -> None:
    """Apply the relaxations in place; fail loudly on anything that does not fit."""
    for entry in overrides:
        where = f"override {entry['component']}{entry['pointer']} {entry['action']}"
        try:
            target = resolve_pointer(components[entry["component"]], entry["pointer"])
            ACTIONS[entry["action"]](target, entry.get("value"))
        except (KeyError, ValueError, IndexError) as exc:
            raise SystemExit(f"{where}: does not apply: {exc}") from exc


# --------------------------------------------------------------------------- oneOf analysis
#
# `oneOf` fails an instance that matches two branches. The vendor uses it for alternatives
# that are not told apart by anything (branches that require nothing, objects that differ
# only in optional members), so a payload that fits several of them is refused although it
# fits the spec's intent. At the default and legacy levels every `oneOf` is analysed: it is
# kept only when its branches are pairwise disjoint, else it becomes `anyOf` (which accepts
# a superset: every instance one branch accepts), and the conversion is recorded.
#
# Rule (sound: "disjoint" is only said when no instance can match both branches). Each
# branch is over-approximated, through `$ref`, `allOf` (intersection) and `anyOf`/`oneOf`
# (union), by: the JSON types it can accept, the finite set of values it is limited to
# (`enum`/`const`), the members it requires, and the schema of each member. Two branches
# are disjoint when
#   1. they share no JSON type (string vs object; integer counts as number), or
#   2. both are limited to finite value sets that do not meet, or
#   3. objects are the only type they share and some member required by both has disjoint
#      schemas (by this same rule: a `const`/`enum` discriminator, or member types).

JSON_TYPES = frozenset({"null", "boolean", "object", "array", "string", "number"})
ANALYSIS_DEPTH = 8


def _canonical(value: Json) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True)


class Facts:
    """An over-approximation of what a schema accepts: JSON types, the finite set of values
    (canonical JSON) when limited to one, required members, and each member's schema."""

    def __init__(
        self,
        types: frozenset[str] = JSON_TYPES,
        values: frozenset[str] | None = None,
        required: frozenset[str] = frozenset(),
        props: dict[str, Json] | None = None,
    ) -> None:
        self.types = types
        self.values = values
        self.required = required
        self.props = props or {}

    def both(self, other: Facts) -> Facts:
        """What both accept (allOf)."""
        values = (
            self.values
            if other.values is None
            else (other.values if self.values is None else self.values & other.values)
        )
        props = dict(self.props)
        for name, sub in other.props.items():
            props[name] = {"allOf": [props[name], sub]} if name in props else sub
        return Facts(self.types & other.types, values, self.required | other.required, props)

    def either(self, other: Facts) -> Facts:
        """What one or the other accepts (anyOf, oneOf); a member unconstrained in one is
        unconstrained in the union."""
        values = None if self.values is None or other.values is None else self.values | other.values
        props = {
            name: {"anyOf": [self.props[name], other.props[name]]} for name in self.props.keys() & other.props.keys()
        }
        return Facts(self.types | other.types, values, self.required & other.required, props)


class Analyser:
    """Disjointness of schemas of one level. Every generated `$ref` points into the level's
    defs.json (`#/$defs/X` there, `../defs.json#/$defs/X` elsewhere)."""

    def __init__(self, defs_file: Json) -> None:
        self.defs_file = defs_file

    def facts(self, schema: Json, depth: int = 0) -> Facts:
        if schema is False:
            return Facts(types=frozenset())
        if not isinstance(schema, dict) or depth > ANALYSIS_DEPTH:
            return Facts()
        out = Facts(required=frozenset(schema.get("required", ())), props=dict(schema.get("properties", {})))
        if "type" in schema:
            declared = schema["type"]
            declared = [declared] if isinstance(declared, str) else declared
            out.types = frozenset("number" if t == "integer" else t for t in declared)
        for key in ("enum", "const"):
            if key in schema:
                values = schema[key] if key == "enum" else [schema[key]]
                out = out.both(
                    Facts(frozenset(json_type(v, integer=False) for v in values), frozenset(map(_canonical, values)))
                )
        if "$ref" in schema:
            target = resolve_pointer(self.defs_file, schema["$ref"].partition("#")[2])
            out = out.both(self.facts(target, depth + 1))
        for sub in schema.get("allOf", ()):
            out = out.both(self.facts(sub, depth + 1))
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                union = self.facts(schema[key][0], depth + 1)
                for sub in schema[key][1:]:
                    union = union.either(self.facts(sub, depth + 1))
                out = out.both(union)
        if out.values is not None:  # only the values of an accepted type remain
            out.values = frozenset(v for v in out.values if json_type(json.loads(v), integer=False) in out.types)
            out.types = frozenset(json_type(json.loads(v), integer=False) for v in out.values)
        return out

    def overlap(self, a: Json, b: Json, depth: int = 0) -> str | None:
        """None when no instance can match both schemas, else why one may."""
        fa, fb = self.facts(a), self.facts(b)
        shared = fa.types & fb.types
        if not shared:
            return None
        if fa.values is not None and fb.values is not None and not fa.values & fb.values:
            return None
        if shared != {"object"}:
            return f"both accept {' and '.join(sorted(shared))}"
        common = sorted(fa.required & fb.required)
        if depth < ANALYSIS_DEPTH:
            for name in common:
                if self.overlap(fa.props.get(name, {}), fb.props.get(name, {}), depth + 1) is None:
                    return None
        if not common:
            return "both accept objects and no member is required by both"
        return f"both accept objects and no member both require ({', '.join(common)}) tells them apart"

    def one_of(self, branches: list[Json]) -> str | None:
        """None when the branches are pairwise disjoint, else why not (the first overlap)."""
        for i in range(len(branches)):
            for j in range(i + 1, len(branches)):
                why = self.overlap(branches[i], branches[j])
                if why is not None:
                    return f"branches {i} and {j} can match the same instance: {why}"
        return None


def one_of_nodes(node: Json, pointer: str = "") -> Iterator[tuple[str, dict[str, Json]]]:
    """(JSON pointer, schema) of every schema holding `oneOf`, outermost first."""
    if isinstance(node, dict):
        if isinstance(node.get("oneOf"), list):
            yield pointer, node
        for key, value in node.items():
            if key not in ("enum", "const", "required"):
                yield from one_of_nodes(value, f"{pointer}/{escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from one_of_nodes(value, f"{pointer}/{index}")


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def relax_one_of(files: Files, level: str) -> list[dict[str, str]]:
    """Turn every overlapping `oneOf` of a level's files into `anyOf`, in place; return the
    conversions (file, JSON pointer into it, reason). Analysis sees the files as they were:
    oneOf and anyOf accept the same over-approximation, so the order does not matter."""
    analyser = Analyser(files[f"{level}/defs.json"])
    found = [
        (rel, pointer, node)
        for rel in sorted(files)
        if rel.startswith(level + "/")
        for pointer, node in one_of_nodes(files[rel])
    ]
    conversions = []
    for rel, pointer, node in found:
        why = analyser.one_of(node["oneOf"])
        if why is not None:
            conversions.append({"file": rel, "pointer": pointer + "/oneOf", "reason": why})
    for rel, pointer, node in found:
        if any(c["file"] == rel and c["pointer"] == pointer + "/oneOf" for c in conversions):
            node["anyOf"] = node.pop("oneOf")
    for c in conversions:  # the pointer names the keyword as it is now written
        c["pointer"] = c["pointer"][: -len("oneOf")] + "anyOf"
    return conversions


# --------------------------------------------------------------------------- envelopes

ENVELOPES = {"v2024": "WebhookProjectSettingPayload", "distribution": "WebhookDistributionPayload"}


def vendor_envelope(components: dict[str, Json], name: str, level: str) -> Json:
    envelope = copy.deepcopy(components[name])
    # `data` is checked separately, against the schema of the event type.
    envelope["properties"]["data"] = {"type": "object"}
    if level != "strict":
        # Every catalogue type, and the aliases it still resolves (old fixtures), so no
        # name the CLI knows is refused by the envelope alone.
        types = sorted(set(SCHEMA_TYPES) | set(EXTRA_TYPES) | set(ALIASES))
        event_type = envelope["properties"]["event"]["properties"]["type"]
        event_type["enum"] = sorted(set(event_type.get("enum", ())) | set(types))
        if "enum" in envelope["properties"]["type"]:
            envelope["properties"]["type"]["enum"] = types
    return envelope


def legacy_envelope(level: str) -> Json:
    """The legacy v2018 Event object (not part of the vendor's OpenAPI file)."""
    text = {"type": "string"}
    obj = {"type": "object"}
    related = {
        "type": "object",
        "properties": {
            "id": text,
            "type": text,
            "created_at": {"type": "string", "format": "date-time"},
            "data": obj,
            "data_json": obj,
            "metadata_json": dict(obj, nullable=True),
            "automation_id": dict(text, nullable=True),
            "group_id": dict(text, nullable=True),
        },
        "required": ["id", "type", "created_at"],
        "anyOf": [{"required": ["data"]}, {"required": ["data_json"]}],
    }
    envelope: dict[str, Json] = {
        "type": "object",
        "properties": {
            "id": text,
            "object": {"const": "event"},
            "webhook_id": dict(text, nullable=True),
            "project_id": text,
            "created_at": {"type": "string", "format": "date-time"},
            "type": text,
            "data": {
                "type": "object",
                "properties": {
                    "object": obj,
                    "previous_attributes": obj,
                    "related_object": dict(related, nullable=True),
                },
                "required": ["object"],
            },
            "metadata": dict(obj, nullable=True),
        },
        "required": ["id", "object", "created_at", "type", "data"],
    }
    if level == "strict":
        envelope["required"] = list(envelope["properties"])
        envelope["additionalProperties"] = False
    return envelope


# --------------------------------------------------------------------------- shapes


def members(defs: dict[str, Json], schema: Json) -> tuple[set[str], set[str]]:
    """Top-level (properties, required) of an object schema, through $ref and combinators."""
    if not isinstance(schema, dict):
        return set(), set()
    props = set(schema.get("properties", ()))
    required = set(schema.get("required", ()))
    if "$ref" in schema:
        p, r = members(defs, defs[schema["$ref"].removeprefix(DEFS_REF)])
        props, required = props | p, required | r
    for sub in schema.get("allOf", ()):
        p, r = members(defs, sub)
        props, required = props | p, required | r
    branches = [
        members(defs, sub) for key in ("anyOf", "oneOf") for sub in schema.get(key, ()) if sub != {"type": "null"}
    ]
    if branches:
        props |= set().union(*(p for p, _ in branches))
        required |= set.intersection(*(r for _, r in branches))
    return props, required


def shapes(defs: dict[str, Json], data_components: dict[str, str]) -> Json:
    out = {}
    for etype, component in data_components.items():
        props, required = members(defs, {"$ref": DEFS_REF + component})
        out[etype] = {"properties": sorted(props), "required": sorted(required)}
    return out


# --------------------------------------------------------------------------- build


def data_components() -> dict[str, str]:
    """Event type -> name of its data component, checked against the catalogue."""
    found = {etype: component for _key, etype, component, _example in vendor.webhooks()}
    if sorted(found) != sorted(SCHEMA_TYPES) or len(found) != len(SCHEMA_TYPES):
        raise SystemExit(
            "vendor webhook types differ from catalogue.SCHEMA_TYPES: "
            f"only vendor {sorted(set(found) - set(SCHEMA_TYPES))}, "
            f"only catalogue {sorted(set(SCHEMA_TYPES) - set(found))}"
        )
    return found


def build_level(
    level: str,
    overrides: list[dict[str, Json]],
    data: dict[str, str],
    dropped: Counter[str],
    analysis: dict[str, Json],
) -> Files:
    components = copy.deepcopy(vendor.load_spec()["components"]["schemas"])
    if level != "strict":
        apply_overrides(components, overrides)
    envelopes = {name: vendor_envelope(components, c, level) for name, c in ENVELOPES.items()}
    envelopes["legacy"] = legacy_envelope(level)
    roots = set(data.values()) | {component_name(ref) for env in envelopes.values() for ref in refs_in(env)}
    converter = Converter(level)
    defs = {name: converter.schema(components[name]) for name in reachable(components, roots)}
    files: Files = {f"{level}/defs.json": {"$schema": DRAFT, "$defs": defs}}
    for etype, component in data.items():
        files[f"{level}/data/{etype}.json"] = {
            "$schema": DRAFT,
            "$ref": f"{DEFS_FILE_REF}{DEFS_REF}{component}",
        }
    # Legacy-level envelopes are the default ones: only the data drops `required`.
    envelope_converter = Converter("default" if level == "legacy" else level)
    for name, envelope in envelopes.items():
        schema = relative_refs(envelope_converter.schema(envelope), DEFS_FILE_REF)
        files[f"{level}/envelope/{name}.json"] = {"$schema": DRAFT, **schema}
    if level == "strict":
        dropped.update(converter.dropped)
        files["shapes.json"] = shapes(defs, data)
    else:
        analysis[level] = relax_one_of(files, level)
    return files


def with_id(rel: str, schema: dict[str, Json]) -> dict[str, Json]:
    """A schema file with its `$id`: other tools load the files by it (relative refs resolve
    against it to the neighbouring files)."""
    return {"$id": schema_id(rel), **schema}


def build(overrides: list[dict[str, Json]] | None = None, report: bool = False) -> Files:
    """All generated files, path relative to schemas/ -> JSON value."""
    if overrides is None:
        overrides = load_overrides()
    data = data_components()
    dropped: Counter[str] = Counter()
    analysis: dict[str, Json] = {}
    files: Files = {}
    for level in LEVELS:
        level_files = build_level(level, overrides, data, dropped, analysis)
        files.update(
            {rel: with_id(rel, obj) if rel.startswith(f"{level}/") else obj for rel, obj in level_files.items()}
        )
    files[ANALYSIS_FILE] = {
        "rule": "oneOf -> anyOf where two branches can match the same instance "
        "(scripts/generate_schemas.py, oneOf analysis); strict keeps every oneOf",
        "oneof_to_anyof": analysis,
    }
    if report:
        for keyword, count in sorted(dropped.items()):
            print(f"dropped unknown keyword {keyword!r}: {count}x")
    return dict(sorted(files.items()))


# --------------------------------------------------------------------------- checking

BASE_URI = schema_id("")  # the files' own `$id`s


def validator(files: Files, rel: str) -> Draft202012Validator:
    """A validator for the generated file `rel`, resolving relative refs between files."""
    registry: Registry = Registry().with_resources(
        (BASE_URI + name, DRAFT202012.create_resource(obj)) for name, obj in files.items()
    )
    return Draft202012Validator({"$ref": BASE_URI + rel}, registry=registry, format_checker=FormatChecker())


# --------------------------------------------------------------------------- files


def existing(out: Path) -> set[str]:
    """Generated-looking files in `out` (level folders and shapes.json; never overrides)."""
    found = {name for name in ("shapes.json", ANALYSIS_FILE) if (out / name).is_file()}
    for level in LEVELS:
        found |= {p.relative_to(out).as_posix() for p in (out / level).rglob("*.json")}
    return found


def differences(files: Files, out: Path) -> list[str]:
    problems = []
    for rel, obj in files.items():
        path = out / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != dump(obj):
            problems.append(f"differs: {rel}")
    problems.extend(f"extra: {rel}" for rel in sorted(existing(out) - files.keys()))
    return problems


def write(files: Files, out: Path) -> None:
    for rel in sorted(existing(out) - files.keys()):
        (out / rel).unlink()
    for rel, obj in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = dump(obj)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for level in LEVELS:
        for folder in sorted((p for p in (out / level).rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--out", type=Path, default=SCHEMAS_DIR, help="output directory")
    args = parser.parse_args(argv)
    vendor.require("generate_schemas.py", vendor.SPEC_PATH)
    files = build(report=not args.check)
    if args.check:
        problems = differences(files, args.out)
        for line in problems:
            print(line)
        if problems:
            print("schemas are out of date: run python scripts/generate_schemas.py")
        return 1 if problems else 0
    write(files, args.out)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
