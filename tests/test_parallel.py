"""Large NDJSON files run on every core: the output must be exactly a serial run's."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson
import pytest
from conftest import invoke

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


@pytest.mark.parametrize("args", [("show", "--format", "json"), ("show", "--table"), ("validate",),
                                  ("validate", "--format", "github"), ("validate", "-q"),
                                  ("stats", "--format", "json", "--all")])
def test_chunked_run_matches_serial_run(log: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch,
                                        args: tuple[str, ...]) -> None:
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
        assert end == next_start and data[next_start:next_start + 1] == b"{"
        assert next_line == line + data[start:end].count(b"\n")


def test_small_gzip_and_stdin_stay_serial(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "x.ndjson.gz"
    path.write_bytes(b"\x1f\x8b" + b"0" * 4096)
    from vevents_cli.pipeline.sources import Source

    assert not parallel.splittable(Source(str(path), path))
    assert not parallel.splittable(Source("<stdin>", None))
