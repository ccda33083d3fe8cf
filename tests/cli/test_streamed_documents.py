"""Documents written as the events arrive (validate --format json, JUnit) are the bytes the whole
document would give: the JSON orjson's two-space layout, the JUnit ElementTree's indented tree;
serial and parallel runs alike (small chunks), with invalid events, unreadable lines and nothing."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest

from tests.helpers import invoke
from vevents_cli import jsonout, samples
from vevents_cli.pipeline import parallel
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES


def _log(tmp_path: Path, broken: bool) -> Path:
    lines = []
    for i in range(300):
        payload = samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], ("v2024", "distribution", "legacy")[i % 3])
        if i % 7 == 0:  # invalid data: a member of the wrong type
            data = payload.get("data")
            if isinstance(data, dict) and data:
                key = next(iter(data))
                data[key] = [data[key]]
        lines.append(orjson.dumps(payload))
        if broken and i % 50 == 0:
            lines.append(b'{"id": "whs_broken", "data": ')
    path = tmp_path / "log.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(params=["1", "2"], ids=["serial", "parallel"])
def jobs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 32 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    monkeypatch.setenv("VEVENTS_JOBS", request.param)
    return str(request.param)


@pytest.mark.parametrize("broken", [False, True])
@pytest.mark.parametrize("extra", [(), ("--only-invalid",), ("--expect", "invalid")])
def test_json_document_is_the_whole_documents_bytes(
    tmp_path: Path, jobs: str, broken: bool, extra: tuple[str, ...]
) -> None:
    result = invoke("validate", "--format", "json", *extra, str(_log(tmp_path, broken)))
    document = orjson.loads(result.stdout_bytes)
    assert document["summary"]["events"] == 300
    assert any(not e["valid"] for e in document["events"])
    assert bool(document["unreadable"]) == broken
    assert result.stdout_bytes == jsonout.dumps(document, pretty=True, newline=True)


@pytest.mark.parametrize("extra", [(), ("--only-invalid",)])
def test_json_document_without_events(tmp_path: Path, extra: tuple[str, ...]) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    valid = tmp_path / "valid.json"
    valid.write_bytes(orjson.dumps(samples.sample("voucher.published")))
    for args in (("--allow-empty", str(empty)), (str(valid),)):
        result = invoke("validate", "--format", "json", *extra, *args)
        document = orjson.loads(result.stdout_bytes)
        assert result.stdout_bytes == jsonout.dumps(document, pretty=True, newline=True)


@pytest.mark.parametrize("broken", [False, True])
@pytest.mark.parametrize("extra", [(), ("--expect", "invalid")])
def test_junit_report_is_the_whole_trees_bytes(tmp_path: Path, jobs: str, broken: bool, extra: tuple[str, ...]) -> None:
    result = invoke("validate", "--format", "junit", *extra, str(_log(tmp_path, broken)))
    suite = ET.fromstring(result.stdout_bytes)
    assert int(suite.get("tests", "0")) == 300 + (6 if broken else 0)
    assert int(suite.get("failures", "0")) > 0
    assert (int(suite.get("errors", "0")) > 0) == (broken and not extra)
    for element in suite.iter():  # the tree again, indented and written at once
        element.tail = None
        if len(element):
            element.text = None
    ET.indent(suite)
    assert result.stdout_bytes == ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"


def test_junit_report_without_events(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = invoke("validate", "--format", "junit", "--allow-empty", str(empty))
    assert result.stdout == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<testsuite name="vevents validate" tests="0" failures="0" errors="0" />\n'
    )
