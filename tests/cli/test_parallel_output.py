"""Large NDJSON files run on every core: the output must be exactly a serial run's."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke
from vevents_cli import samples
from vevents_cli.pipeline import parallel
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A mixed log with broken lines and a pretty-printed value in the middle."""
    lines = []
    for i in range(600):
        payload = samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], ("v2024", "distribution", "legacy")[i % 3])
        lines.append(orjson.dumps(payload))
        if i % 97 == 0:
            lines.append(b'{"id": "whs_broken", "data": ')
        if i == 300:
            lines.append(orjson.dumps(samples.sample("voucher.published"), option=orjson.OPT_INDENT_2))
    path = tmp_path / "log.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_SIZE", 1024)
    monkeypatch.setattr(parallel, "CHUNK", 64 * 1024)
    monkeypatch.setattr(parallel, "SCAN", 4 * 1024)
    monkeypatch.setenv("VEVENTS_JOBS", "2")


def _serial(monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setenv("VEVENTS_JOBS", "1")
    result = invoke(*args)
    monkeypatch.setenv("VEVENTS_JOBS", "2")
    return result


@pytest.mark.parametrize(
    "args",
    [
        ("show", "--format", "json"),
        ("show", "--table"),
        ("validate",),
        ("validate", "--format", "github"),
        ("validate", "-q"),
        ("stats", "--format", "json", "--all"),
    ],
)
def test_chunked_run_matches_serial_run(
    log: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    assert len(list(parallel.chunks(log))) > 10
    chunked = invoke(*args, str(log))
    serial = _serial(monkeypatch, *args, str(log))
    assert chunked.exit_code == serial.exit_code == 1, chunked.stdout
    assert chunked.stdout == serial.stdout
    assert sorted(chunked.stderr.splitlines()) == sorted(serial.stderr.splitlines())
    assert f"vevents: {log}:2:" in serial.stderr + serial.stdout or "unreadable" in serial.stdout


def test_chunks_cut_only_before_a_new_value(log: Path, small_chunks: None) -> None:
    data = log.read_bytes()
    cuts = list(parallel.chunks(log))
    assert cuts[0][0] == 0 and cuts[-1][1] == len(data)
    for (start, end, line), (next_start, _, next_line) in itertools.pairwise(cuts):
        assert end == next_start and data[next_start : next_start + 1] == b"{"
        assert next_line == line + data[start:end].count(b"\n")


def test_small_gzip_and_stdin_stay_serial(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "x.ndjson.gz"
    path.write_bytes(b"\x1f\x8b" + b"0" * 4096)
    from vevents_cli.pipeline.sources import Source

    assert not parallel.splittable(Source(str(path), path))
    assert not parallel.splittable(Source("<stdin>", None))


def _events(n: int) -> list[bytes]:
    dialects = ("v2024", "distribution", "legacy")
    return [orjson.dumps(samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], dialects[i % 3])) for i in range(n)]


def _cut_at_chunk_edges(lines: list[bytes]) -> list[bytes]:
    """Cut the first line, and the lines that start where chunks of the whole lines would start."""
    out, size = [], 0
    for number, text in enumerate(lines):
        edge = size // parallel.CHUNK != (size + len(text) + 1) // parallel.CHUNK
        out.append(text[: len(text) // 2] if number == 0 or edge else text)
        size += len(text) + 1
    return out


@pytest.mark.parametrize("name", ["log.ndjson", "log.json"])
def test_cut_lines_at_chunk_edges_and_first_agree_with_a_serial_run(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    lines = _cut_at_chunk_edges(_events(900))
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    cut = sum(1 for a, b in zip(lines, _events(900), strict=True) if a != b)
    assert cut > 5
    from vevents_cli.pipeline.sources import Source

    assert parallel.splittable(Source(str(path), path)) is name.endswith(".ndjson")
    for args in (("validate", "-q"), ("show", "--format", "json")):
        chunked = invoke(*args, str(path))
        serial = _serial(monkeypatch, *args, str(path))
        assert chunked.stdout == serial.stdout and chunked.stderr == serial.stderr
        assert chunked.exit_code == serial.exit_code == 1
    assert f"{900 - cut} valid, 0 invalid, {cut} unreadable" in invoke("validate", "-q", str(path)).stdout


def test_nul_bytes_in_a_log_cost_their_line_only(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash can leave NUL bytes in a log: a line with some, and a block longer than a line
    may be held, are one error each, at their line; every other event is read, serial or not."""
    lines = _events(900)
    lines[300] = b'{"id": "whs_1", "note": "a\x00b"}'
    lines[600] = b"\x00" * (200 * 1024)
    path = tmp_path / "webhooks.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    chunked = invoke("validate", "-q", str(path))
    serial = _serial(monkeypatch, "validate", "-q", str(path))
    assert chunked.stdout == serial.stdout == "898 valid, 0 invalid, 2 unreadable\n"
    errors = invoke("validate", str(path)).stderr.splitlines()
    assert errors == [f"vevents: {path}:{n}: binary data in this line (NUL bytes): skipped" for n in (301, 601)]


def test_a_line_longer_than_a_few_chunks_is_read_serially_from_there(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MAX_CHUNK", 8 * parallel.CHUNK)  # as the module defines it, for small chunks
    lines = _events(600)
    huge = b'{"id": "whs_huge", "data": {"note": "' + b"x" * (6 * parallel.MAX_CHUNK) + b'"}}'
    path = tmp_path / "log.ndjson"
    path.write_bytes(b"\n".join([*lines[:300], huge, *lines[300:]]) + b"\n")
    assert any(end is None for _, end, _ in parallel.chunks(path))
    args = ("validate", "--max-value-size", "256K", "--format", "json")
    chunked = invoke(*args, str(path))
    serial = _serial(monkeypatch, *args, str(path))
    assert chunked.stdout == serial.stdout and chunked.exit_code == serial.exit_code == 1
    report = orjson.loads(chunked.stdout)
    assert report["unreadable"] == [
        {
            "source": str(path),
            "line": 301,
            "column": None,
            "error": "line longer than 256 KiB (--max-value-size): skipped",
            "ok": False,
        }
    ]
    assert len(report["events"]) == 600


def test_a_source_given_up_in_its_first_chunk_is_given_up_in_a_chunked_run(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [b"not json at all, line %d" % i for i in range(25)] + _events(900)
    path = tmp_path / "log.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    chunked = invoke("validate", str(path))
    serial = _serial(monkeypatch, "validate", str(path))
    assert chunked.stdout == serial.stdout and chunked.stderr == serial.stderr
    assert "giving up after 20 unreadable values" in serial.stderr
