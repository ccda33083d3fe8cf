"""The bundled samples: up to date, valid, our own, and one per dialect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from scripts import vendor
from vevents_cli import resources
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SCHEMAS = REPO / "schemas"


def _retrieve(uri: str) -> Any:
    bundled = resources.schema_for_id(uri)  # a bundled file, by its `$id`
    path = bundled if bundled is not None else Path(uri[len("file://") :].split("#")[0])
    return json.loads(path.read_text(encoding="utf-8"))


def _validator(path: Path) -> Any:
    return jsonschema_rs.validator_for(
        json.loads(path.read_text(encoding="utf-8")), validate_formats=True, retriever=_retrieve, base_uri=path.as_uri()
    )


def _load(rel: str) -> Any:
    return json.loads((SAMPLES / rel).read_text(encoding="utf-8"))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _enums(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "enum":
                yield from (e for e in v if isinstance(e, str))
            yield from _enums(v)
            if k == "properties" and isinstance(v, dict):
                yield from v  # member names are schema vocabulary too
    elif isinstance(value, list):
        for v in value:
            yield from _enums(v)


def test_check_passes(tmp_path: Path) -> None:
    """Without the vendor's data too (a clone without ../shared): samples come from schemas/ alone."""
    result = subprocess.run(
        [sys.executable, "scripts/generate_samples.py", "--check"],
        cwd=REPO,
        env={**os.environ, "VEVENTS_VENDOR_DIR": str(tmp_path / "no-such-vendor-folder")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("etype", SCHEMA_TYPES)
def test_sample_data_is_valid(etype: str) -> None:
    path = SAMPLES / f"{etype}.json"
    assert path.is_file(), f"no sample for {etype}"
    event = json.loads(path.read_text(encoding="utf-8"))
    assert event["type"] == etype
    schema = SCHEMAS / "default" / "data" / f"{etype}.json"
    errors = [e.message for e in _validator(schema).iter_errors(event["data"])]
    assert not errors, errors[:3]
    envelope = _validator(SCHEMAS / "default" / "envelope" / "v2024.json")
    assert envelope.is_valid(event)


def test_sample_files_are_exactly_the_schema_types() -> None:
    have = {p.name[: -len(".json")] for p in SAMPLES.glob("*.json")}
    assert have == set(SCHEMA_TYPES)


@pytest.mark.skipif(not vendor.available(), reason="vendor files not in ../shared")
def test_nothing_copied_from_vendor_examples() -> None:
    vocabulary: set[str] = set()
    for level in ("default", "strict"):
        for path in (SCHEMAS / level).rglob("*.json"):
            vocabulary.update(_enums(json.loads(path.read_text(encoding="utf-8"))))
    theirs = {
        s for _etype, example in vendor.examples() for s in _strings(example) if len(s) >= 12 and s not in vocabulary
    }
    assert theirs, "expected some long vendor strings to compare against"
    copied: dict[str, set[str]] = {}
    for path in sorted(SAMPLES.rglob("*.json")):
        ours = set(_strings(json.loads(path.read_text(encoding="utf-8"))))
        found = ours & theirs
        if found:
            copied[str(path.relative_to(SAMPLES))] = found
    assert not copied, copied


def test_dialect_samples_have_their_shapes() -> None:
    v2024 = _load("dialects/v2024.json")
    assert v2024["source"]["object"] == "webhook"
    assert v2024["type"] == v2024["event"]["type"]
    assert isinstance(v2024["data"], dict)
    assert _validator(SCHEMAS / "default" / "envelope" / "v2024.json").is_valid(v2024)

    distribution = _load("dialects/distribution.json")
    assert distribution["source"]["object"] == "distribution"
    assert distribution["event"]["type"] == "customer.order.paid"
    assert distribution["type"] != distribution["event"]["type"]  # a custom name
    assert _validator(SCHEMAS / "default" / "envelope" / "distribution.json").is_valid(distribution)

    legacy = _load("dialects/legacy.json")
    assert legacy["object"] == "event"
    assert legacy["type"] == "points_earned"
    assert set(legacy) >= {"id", "webhook_id", "project_id", "created_at", "data", "metadata"}
    assert set(legacy["data"]) == {"object", "previous_attributes", "related_object"}
    related = legacy["data"]["related_object"]
    assert related["type"] == "customer.rewarded.loyalty_points"
    assert set(related) >= {"id", "type", "created_at", "data"}
    assert _validator(SCHEMAS / "default" / "envelope" / "legacy.json").is_valid(legacy)

    bare = _load("dialects/bare.json")
    assert not {"project_id", "data"} & set(bare) and bare.get("object") != "event"
    assert bare == _load("voucher.loyalty_card.transaction.created.json")["data"]
