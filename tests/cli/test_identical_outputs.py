"""Every reading command and format writes the bytes the base version wrote, serially and on workers.

The digests in tests/cli/golden_outputs.json were made by `scripts/golden_outputs.py` with the
version before the speed work (the samples folder and a small log with two broken lines;
`--heavy`: the bench's 30,000-event mixed and all-invalid logs). Here the same cases run
through the real entry point: in-process on the samples and the small log, serially and on two
workers cutting the log into small chunks; as whole processes on the bench logs (heavy),
serially and with VEVENTS_JOBS=2 (those logs are large enough to be cut as they are).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke
from tests.helpers.cli import clean_env
from vevents_cli.pipeline import parallel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import golden_outputs  # noqa: E402

GOLDEN: dict[str, dict[str, object]] = json.loads(golden_outputs.GOLDEN.read_text())
LIGHT_CASES = [(name, case) for name in ("samples", "small") for case in golden_outputs.CASES]
LIGHT = [
    pytest.param(name, case, marks=[pytest.mark.heavy] if name == "small" else [], id=f"{name}/{case}")
    for name, case in LIGHT_CASES  # the small log's cases serially: with the heavy tests (two workers: here)
]
PARALLEL = ("validate", "validate-json", "validate-junit", "show-json-raw", "show-table", "stats-json", "ledger-json")
HEAVY = [(name, case) for name in ("mixed", "invalid") for case in golden_outputs.HEAVY_CASES]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("golden")
    golden_outputs.inputs(found, heavy=False, vevents=[])
    return found


def _in_process(folder: Path, name: str, case: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.chdir(folder)
    target = "samples" if name == "samples" else "small.ndjson"
    result = invoke(*golden_outputs.CASES[case], target)
    return golden_outputs.digest(result.stdout_bytes, result.stderr_bytes, result.exit_code)


@pytest.mark.parametrize(("name", "case"), LIGHT)
def test_serial_output_is_the_base_versions(
    folder: Path, name: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    assert _in_process(folder, name, case, monkeypatch) == GOLDEN[golden_outputs.key(name, case)]


@pytest.mark.heavy  # (serial runs against the same digests are in the default suite)
@pytest.mark.parametrize("case", PARALLEL)
def test_output_on_two_workers_is_the_base_versions(folder: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 64 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    monkeypatch.setenv("VEVENTS_JOBS", "2")
    assert len(list(parallel.chunks(folder / "small.ndjson"))) > 10
    assert _in_process(folder, "small", case, monkeypatch) == GOLDEN[golden_outputs.key("small", case)]


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--type", "voucher.*"),
        ("show", "--format", "json", "--type", "*.created", "--strict"),
        ("validate", "--format", "json", "--expect", "invalid", "--type", "customer.*"),
    ],
)
def test_filtered_output_on_two_workers_is_a_serial_runs(
    folder: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With filters, what workers send back and count is a serial run's."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    serial = invoke(*args, "small.ndjson")
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 64 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    monkeypatch.setenv("VEVENTS_JOBS", "2")
    chunked = invoke(*args, "small.ndjson")
    assert serial.stdout_bytes and serial.exit_code in (0, 1)
    assert (chunked.exit_code, chunked.stdout_bytes, chunked.stderr_bytes) == (
        serial.exit_code,
        serial.stdout_bytes,
        serial.stderr_bytes,
    )


@pytest.fixture(scope="module")
def heavy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("golden-heavy")
    golden_outputs.heavy_logs(found, [sys.executable, "-m", "vevents_cli"])
    return found


@pytest.mark.heavy
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(("name", "case"), HEAVY, ids=[f"{n}/{c}" for n, c in HEAVY])
def test_bench_log_output_is_the_base_versions(heavy_folder: Path, name: str, case: str, jobs: int) -> None:
    target = heavy_folder / f"{name}-{golden_outputs.HEAVY_EVENTS}.ndjson"
    assert target.stat().st_size > parallel.MIN_SIZE  # cut into chunks with two workers
    found = golden_outputs.run_case(
        [sys.executable, "-m", "vevents_cli"], golden_outputs.CASES[case], target, jobs, clean_env()
    )
    assert found == GOLDEN[golden_outputs.key(name, case)]


def test_the_digests_cover_every_case() -> None:
    expected = {golden_outputs.key(n, c) for n, c in LIGHT_CASES + HEAVY}
    assert expected <= GOLDEN.keys(), sorted(expected - GOLDEN.keys())
    assert hashlib.sha256(b"").hexdigest() not in {d["stdout"] for d in GOLDEN.values()}


def test_valid_entries_written_from_a_template_are_the_whole_documents_bytes(tmp_path: Path) -> None:
    """`validate --format json` writes a valid event's entry from a per-kind template: the
    document is still exactly `jsonout.dumps(document, pretty=True)`, whatever the source's
    name and however deep in an array the event is."""
    from vevents_cli import jsonout, samples

    folder = tmp_path / 'a "quoted" naïve\\folder'
    folder.mkdir()
    events = [samples.sample(t, d) for t in ("voucher.published", "customer.created") for d in ("v2024", "legacy")]
    (folder / "array.json").write_bytes(orjson.dumps(events * 2))
    (folder / "one.json").write_bytes(orjson.dumps(events[0]))
    result = invoke("validate", "--format", "json", str(folder))
    document = orjson.loads(result.stdout_bytes)
    assert [e["index"] for e in document["events"]] == [0, 1, 2, 3, 4, 5, 6, 7, None]
    assert all(e["valid"] for e in document["events"])
    assert result.stdout_bytes == jsonout.dumps(document, pretty=True, newline=True)
