"""The legacy level accepts whatever the default level accepts.

Legacy events are checked against the default level's data schema first and against the
legacy level's only when the default one refuses them (`pipeline.check`): fewer
validators to compile and keep warm. That is sound only while every instance the default
level accepts, the legacy level accepts too (the legacy level is the default one without
`required`, every member nullable). These tests hold the generated schemas to it, over
generated instances, the samples, the vendor's examples and the same with members
removed, nulled or given the wrong type; and check through the CLI that legacy verdicts
and errors are the legacy level's.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import jsonschema_rs
import orjson
import pytest

from tests.conformance.test_default_level_acceptance import generated
from tests.helpers import invoke, legacy_examples, vendor_examples, write_ndjson
from vevents_cli import resources
from vevents_cli.pipeline.schemas import load, registry
from vevents_cli.samples import sample, wrap
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

SCHEMAS = resources.schemas_dir()


@functools.cache
def validator(level: str, etype: str) -> Any:
    path = SCHEMAS / level / "data" / f"{etype}.json"
    return jsonschema_rs.validator_for(
        load(path), validate_formats=True, registry=registry(SCHEMAS / level), base_uri=path.as_uri()
    )


def _changed(data: dict[str, Any]) -> list[Any]:
    """`data`, and each top-level member (and each member of an object member) removed, null
    or of the wrong type, one change at a time."""
    out: list[Any] = [data]
    for key, value in data.items():
        for replacement in (None, 12345 if isinstance(value, str) else "x"):
            out.append({**data, key: replacement})
        out.append({k: v for k, v in data.items() if k != key})
        if isinstance(value, dict):
            for inner in value:
                out.append({**data, key: {k: v for k, v in value.items() if k != inner}})
                out.append({**data, key: {**value, inner: None}})
    return out


def _corpus(etype: str) -> list[Any]:
    bases = [sample(etype)["data"], *(copy.deepcopy(d) for t, d in vendor_examples() if t == etype)]
    return [*generated(etype), *(changed for base in bases for changed in _changed(base))]


@pytest.mark.heavy  # a sweep: ~25k generated and mutated instances through both levels
def test_the_legacy_level_accepts_whatever_the_default_level_accepts() -> None:
    refused: list[str] = []
    accepted = relaxed = 0
    for etype in SCHEMA_TYPES:
        default, legacy = validator("default", etype), validator("legacy", etype)
        for instance in _corpus(etype):
            if default.is_valid(instance):
                accepted += 1
                if not legacy.is_valid(instance):
                    refused.append(f"{etype}: {orjson.dumps(instance)[:200]!r}")
            elif legacy.is_valid(instance):
                relaxed += 1
    print(f"default accepts {accepted}; legacy accepts {relaxed} more")
    assert accepted > 5000 and relaxed > 500  # the corpus has both kinds: the test can fail
    assert refused == [], f"{len(refused)} refused by legacy only:\n" + "\n".join(refused[:10])


def _missing_required(etype: str) -> dict[str, Any] | None:
    """The sample's data without a member the default level requires (None: it requires none)."""
    data = sample(etype)["data"]
    for key in data:
        trimmed = {k: v for k, v in data.items() if k != key}
        if not validator("default", etype).is_valid(trimmed):
            return trimmed
    return None


def test_legacy_verdicts_are_the_legacy_levels(tmp_path) -> None:
    """Through the CLI: a legacy event lacking a member the default level requires is valid
    (v2024: invalid), and one with a wrong type is invalid with the legacy level's error."""
    types = [t for t in SCHEMA_TYPES if _missing_required(t) is not None][:12]
    assert types
    events = [wrap(_missing_required(t), t, dialect) for t in types for dialect in ("legacy", "v2024")]
    wrong = wrap({**sample("voucher.published")["data"], "voucher": "not an object"}, "voucher.published", "legacy")
    log = write_ndjson(tmp_path / "log.ndjson", [*events, wrong, *(e for _, e in legacy_examples())])
    report = orjson.loads(invoke("validate", "--format", "json", str(log)).stdout)["events"]
    verdicts = [e["valid"] for e in report[: len(events)]]
    assert verdicts == [True, False] * len(types)
    errors = report[len(events)]["errors"]
    assert not report[len(events)]["valid"]
    assert [(e["path"], e["message"]) for e in errors] == [("/data/object/voucher", "expected object, got string")]
    assert all(e["valid"] for e in report[len(events) + 1 :])  # the vendor's legacy payloads
