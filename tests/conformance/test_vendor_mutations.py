"""Mutation suite: broken variants of the vendor's examples must be rejected, at the right place.

Generated from the 72 examples: remove a required member (envelope and data), give a
number field a string, give an object member an array, an unknown envelope `type`, and
a `type` that disagrees with the data. All are validated in one `vevents validate
--format json` run; each must be invalid with an error at (or inside) the expected pointer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tests.helpers import invoke, needs_vendor, vendor_examples, write_ndjson
from vevents_cli import resources
from vevents_cli.samples import wrap

pytestmark = needs_vendor

DEFAULT = resources.schemas_dir() / "default"
DEFS = orjson.loads((DEFAULT / "defs.json").read_bytes())["$defs"]
ENVELOPE_REQUIRED = ("id", "project_id", "created_at", "type", "data", "source", "event")


def resolve(node: Any) -> dict[str, Any]:
    """A schema node's effective object shape: $ref followed, allOf merged, nullable unwrapped."""
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        return resolve(DEFS[node["$ref"].rsplit("/", 1)[-1]])
    out: dict[str, Any] = {
        "properties": dict(node.get("properties", {})),
        "required": list(node.get("required", [])),
        "type": node.get("type"),
    }
    for part in node.get("allOf", []):
        sub = resolve(part)
        out["properties"].update(sub["properties"])
        out["required"] += sub["required"]
        out["type"] = out["type"] or sub["type"]
    branches = [b for b in node.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        sub = resolve(branches[0])
        out["properties"].update(sub["properties"])
        out["required"] += sub["required"]
        out["type"] = out["type"] or sub["type"]
    return out


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def data_schema(etype: str) -> dict[str, Any]:
    return resolve(orjson.loads((DEFAULT / "data" / f"{etype}.json").read_bytes()))


def mutations(etype: str, data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(what, broken event, expected pointer) for one example."""
    event = wrap(data, etype, "v2024")
    for member in ENVELOPE_REQUIRED[:4]:
        broken = dict(event)
        del broken[member]
        yield f"envelope without {member}", broken, f"/{member}"
    yield "unknown type", {**event, "type": "voucher.teleported"}, "/type"

    schema = data_schema(etype)
    for member in schema["required"]:
        if member in data:
            broken_data = {k: v for k, v in data.items() if k != member}
            yield f"data without {member}", wrap(broken_data, etype, "v2024"), f"/data/{member}"
    for member, value in data.items():
        sub = resolve(schema["properties"].get(member))
        if isinstance(value, dict) and "object" in _types(sub):
            yield f"{member} as array", wrap({**data, member: [value]}, etype, "v2024"), f"/data/{member}"
            for inner in sub["required"]:
                if inner in value:
                    broken_inner = {k: v for k, v in value.items() if k != inner}
                    yield (
                        f"{member} without {inner}",
                        wrap({**data, member: broken_inner}, etype, "v2024"),
                        f"/data/{member}/{inner}",
                    )
            for inner, inner_value in value.items():
                declared = _types(resolve(sub["properties"].get(inner)))
                if (
                    isinstance(inner_value, int)
                    and not isinstance(inner_value, bool)
                    and declared
                    and declared <= {"integer", "number", "null"}
                ):
                    broken_inner = {**value, inner: str(inner_value)}
                    yield (
                        f"{member}.{inner} as string",
                        wrap({**data, member: broken_inner}, etype, "v2024"),
                        f"/data/{member}/{inner}",
                    )
    other = disagreeing_type(data)
    yield f"sent as {other}", wrap(data, other, "v2024"), "/data"


def disagreeing_type(data: dict[str, Any]) -> str:
    """A type whose schema declares none of the members this data has."""
    keys = set(data)
    for name, shape in sorted(resources.shapes().items()):
        if keys.isdisjoint(shape["properties"]) and shape["properties"]:
            return name
    raise AssertionError("no disagreeing type")


def test_mutants_are_rejected_at_the_expected_pointer(tmp_path: Path) -> None:
    cases = [case for etype, data in vendor_examples() for case in mutations(etype, data)]
    log = write_ndjson(tmp_path / "mutants.ndjson", [event for _, event, _ in cases])
    result = invoke("validate", "--format", "json", str(log))
    report = orjson.loads(result.stdout)
    assert result.exit_code == 1
    assert len(report["events"]) == len(cases)
    missed = []
    for (what, _, expected), outcome in zip(cases, report["events"], strict=True):
        paths = [e["path"] for e in outcome["errors"]]
        if outcome["valid"] or not any(p == expected or p.startswith(expected + "/") for p in paths):
            missed.append(f"{outcome['line']} {outcome['type']} {what}: expected {expected}, got {paths[:3]}")
    rate = 1 - len(missed) / len(cases)
    kinds = {what.split(" ")[-1] for what, _, _ in cases}
    print(f"mutants: {len(cases)}, rejected at the expected pointer: {rate:.1%}")
    print("\n".join(missed[:20]))
    assert len(cases) > 500 and len(kinds) >= 5
    assert rate >= 0.98, "\n".join(missed[:20])
