"""Outputs that print no error details never work them out (the schema walk is the costly
part of an invalid event): `validate -q`, `show --format json`, `show --table` and `stats` run
with the walk made to fail, and print what they print anyway; `validate` does walk."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke
from vevents_cli import samples
from vevents_cli.pipeline.check import SchemaSet


@pytest.fixture
def invalid_log(tmp_path: Path) -> Path:
    lines = []
    for etype in ("voucher.published", "customer.rewarded.loyalty_points", "redemption.succeeded"):
        payload = samples.sample(etype)
        payload["data"] = {key: [value] for key, value in payload["data"].items()}  # every member the wrong type
        lines.append(orjson.dumps(payload))
    path = tmp_path / "invalid.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize(
    "args", [("validate", "-q"), ("show", "--format", "json"), ("show", "--table"), ("stats", "--format", "json")]
)
def test_outputs_without_details_never_walk_the_errors(
    invalid_log: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    expected = invoke(*args, str(invalid_log))

    def walk(*_: object) -> None:
        raise AssertionError("error details worked out for an output that does not print them")

    monkeypatch.setattr(SchemaSet, "explain_all", walk)
    result = invoke(*args, str(invalid_log))
    assert (result.exit_code, result.stdout, result.stderr) == (expected.exit_code, expected.stdout, expected.stderr)
    if args[0] == "validate":
        assert result.stdout.startswith("0 valid, 3 invalid")


def test_validate_prints_the_details(invalid_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SchemaSet, "explain_all", lambda *_: (_ for _ in ()).throw(LookupError("walked")))
    assert "internal error: LookupError: walked" in invoke("validate", str(invalid_log)).stderr
