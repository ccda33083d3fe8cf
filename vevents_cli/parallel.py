"""The pipeline on every core: large NDJSON files cut into chunks, processed by workers.

`run` is `pipeline.run` followed by a `project` function (a renderer's "one item to
output" step); large plain NDJSON files are cut at lines that start a new top-level
value, and each chunk goes through the same stages in a worker process. Results come
back in input order, so the output is the same as a serial run's, byte for byte.
Everything else (stdin, gzip, small files, pretty JSON, arrays) runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson

from vevents_cli import pipeline
from vevents_cli.records import read_all, read_lines
from vevents_cli.sources import GZIP_MAGIC, Problem, Source, expand
from vevents_cli.validation import SchemaSet

T = TypeVar("T")

MIN_SIZE = 16 * 1024 * 1024  # smaller files are not worth a worker's start-up
CHUNK = 4 * 1024 * 1024
SCAN = 256 * 1024  # read ahead this much at a time to find where a chunk may end

# A worker's state, set once when the pool starts (inherited through fork, never pickled).
_WORKER: dict[str, Any] = {}


def cores() -> int:
    """Worker processes to use: $VEVENTS_JOBS, else the cores this process may run on."""
    jobs = os.environ.get("VEVENTS_JOBS", "")
    if jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run(
    paths: Iterable[str],
    project: Callable[[pipeline.Item], T],
    *,
    tally: pipeline.Tally,
    schemas: SchemaSet | None = None,
    on_record: Callable[..., None] | None = None,
    **options: Any,
) -> Iterator[T]:
    """`project(item)` for every item of `pipeline.run(paths, ...)`, in input order."""
    workers = cores()
    pool = None
    try:
        for source in expand(paths):
            if workers > 1 and on_record is None and splittable(source):
                if pool is None:
                    pool = _start(workers, project, schemas, options)
                yield from _chunked(pool, source, tally, workers)  # type: ignore[arg-type]
            else:
                items = pipeline.process(read_all([source]), tally=tally, schemas=schemas, on_record=on_record,
                                         **options)
                yield from map(project, items)
    finally:
        if pool is not None:
            pool.terminate()


def splittable(source: Source | Problem) -> bool:
    """A large, plain (not gzip) file whose first line is a whole JSON object: NDJSON."""
    if not isinstance(source, Source) or source.path is None:
        return False
    try:
        if source.path.stat().st_size < MIN_SIZE:
            return False
        with source.path.open("rb") as f:
            head = f.read(1024 * 1024)
    except OSError:
        return False
    if head.startswith(GZIP_MAGIC):
        return False
    first = head.split(b"\n", 1)[0]
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def chunks(path: Path) -> Iterator[tuple[int, int, int]]:
    """(start, end, first line) of each chunk; cuts fall before a line starting with `{`.

    Read sequentially, a few MiB at a time (no mmap: mapped pages would count as ours).
    """
    with path.open("rb") as f:
        start, line, carry = 0, 1, b""
        while data := carry + f.read(max(CHUNK - len(carry), 0)):
            carry = b""
            while more := f.read(SCAN):
                cut = (data[-1:] + more).find(b"\n{")
                if cut != -1:
                    data, carry = data + more[:cut], more[cut:]
                    break
                data += more
            yield start, start + len(data), line
            line += data.count(b"\n")
            start += len(data)


def _start(workers: int, project: Callable[..., Any], schemas: SchemaSet | None, options: dict[str, Any]) -> Any:
    _WORKER.update(project=project, options=options,
                   schemas=(schemas.strict, schemas.user_dir) if schemas is not None else None)
    return multiprocessing.get_context("fork").Pool(workers, initializer=_init)


def _init() -> None:
    spec = _WORKER.pop("schemas")
    _WORKER["options"]["schemas"] = SchemaSet(*spec) if spec is not None else None


def _chunked(pool: Any, source: Source, tally: pipeline.Tally, workers: int) -> Iterator[Any]:
    """Submit a file's chunks (at most two per worker in flight) and yield results in order."""
    pending: deque[Any] = deque()
    assert source.path is not None
    for start, end, line in chunks(source.path):
        pending.append(pool.apply_async(_work, ((str(source.path), source.name, start, end, line),)))
        if len(pending) >= 2 * workers:
            yield from _collect(pending.popleft(), tally)
    while pending:
        yield from _collect(pending.popleft(), tally)


def _collect(result: Any, tally: pipeline.Tally) -> list[Any]:
    out, counts = result.get()
    tally.merge(counts)
    return out


def _work(job: tuple[str, str, int, int, int]) -> tuple[list[Any], pipeline.Tally]:
    path, name, start, end, line = job
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    tally = pipeline.Tally()
    items = pipeline.process(read_lines(name, data.splitlines(keepends=True), first_line=line), tally=tally,
                             **_WORKER["options"])
    return _joined(map(_WORKER["project"], items)), tally


def _joined(results: Iterable[Any]) -> list[Any]:
    """Runs of bytes joined into one (fewer objects to send back); other results as they are."""
    out: list[Any] = []
    run: list[bytes] = []
    for result in results:
        if isinstance(result, bytes):
            run.append(result)
            continue
        if run:
            out.append(b"".join(run))
            run = []
        out.append(result)
    if run:
        out.append(b"".join(run))
    return out
