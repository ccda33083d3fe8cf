"""A realistic corpus for checking machine output: every bundled sample in every dialect, the
vendor's examples (wrapped in each dialect, and the legacy page's payloads as they are),
some invalid variants, a bench log (`bench.build_log`) and lines that cannot be read.

`build(folder)` writes it as files in `folder` and returns their paths; the bundled
`samples/` folder is one more input (`SAMPLES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers.data import REPO, legacy_examples, vendor_examples, write_ndjson

SAMPLES = REPO / "samples"
BENCH_EVENTS = 2000
BAD_LINES = (b'{"id": "whs_cut", "data": {"a": [1, 2,', b"garbage: not JSON", b"[1, 2]")


def _bench() -> Any:
    """bench/bench.py, a script (mypy checks it as the module `bench`)."""
    import importlib

    return importlib.import_module("bench.bench")


def every_payload() -> list[dict[str, Any]]:
    """Every sample and vendor example in every dialect it can be recognised in (not bare), the
    legacy page's payloads, and an invalid variant of every fifth sample."""
    from vevents_cli import samples
    from vevents_cli.voucherify import catalogue, dialects

    events: list[dict[str, Any]] = []
    examples = dict(vendor_examples())
    for entry in catalogue.CATALOGUE.values():
        for dialect in dialects.for_type(entry):
            if dialect == "bare":
                continue
            if samples.sample_path(entry.name) is not None:
                events.append(samples.sample(entry.name, dialect))
            if entry.name in examples:
                events.append(samples.wrap(examples[entry.name], entry.name, dialect, "2026-03-14T09:00:00.000Z"))
    invalid = [_bench().mutations(event, drop_first=i % 2 == 0)[0] for i, event in enumerate(events[::5])]
    return events + invalid + updates(events) + [payload for _, payload in legacy_examples()]


def updates(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Legacy `*.updated` events with `previous_attributes`: old values of every JSON type."""
    olds: tuple[Any, ...] = ("before", None, 12, {"a": [1, "b"]}, True)
    changed = []
    for event in events:
        data = event.get("data")
        if event.get("object") != "event" or not str(event.get("type")).endswith(".updated"):
            continue
        resource = data.get("object") if isinstance(data, dict) else None
        if isinstance(data, dict) and isinstance(resource, dict):
            previous = dict(zip(list(resource)[: len(olds)], olds, strict=False))
            changed.append({**event, "data": {**data, "previous_attributes": previous}})
    return changed


def bench_log(folder: Path, events: int = BENCH_EVENTS) -> Path:
    """The bench's mixed log (`bench.build_log`) of `events` events, built in `folder`."""
    bench = _bench()
    lines = [orjson.dumps(event) for event in bench.pool()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench, "OUT", folder)
        patch.setattr(bench, "REPO", folder)  # where it says it builds the log, relative to
        path: Path = bench.build_log("mixed", lines, events, "corpus").path
        return path


def build(folder: Path) -> list[Path]:
    """The corpus's files in `folder`: one NDJSON log of every payload with unreadable lines
    among them, a gzipped copy of it, and the bench log."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    log = write_ndjson(folder / "every.ndjson", every_payload())
    lines = log.read_bytes().splitlines(keepends=True)
    for at, bad in zip((1, len(lines) // 2, len(lines)), BAD_LINES, strict=True):
        lines.insert(at, bad + b"\n")
    log.write_bytes(b"".join(lines))
    packed = folder / "every-copy.ndjson.gz"
    packed.write_bytes(gzip.compress(log.read_bytes(), mtime=0))
    return [log, packed, bench_log(folder)]
