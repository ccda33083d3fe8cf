"""The parallel strategy: large NDJSON files cut into chunks, processed by worker processes.

A large, plain (not gzip) NDJSON file (so named, or its first line a whole object) is cut into ~2 MiB
chunks, each just before a line that starts with `{`. Each chunk goes through the same
stages (`Stages.process`) in a worker, reading as a serial run would at that line (the
source is known to be NDJSON there), and the results come back in input order: the
output is a serial run's, byte for byte. At most two chunks per worker are in flight,
so memory stays flat however slowly the results are written.

Workers never outlive the run: `Workers` is a context manager that terminates them on
any exit (end, `| head`, Ctrl-C, SIGTERM, an exception), and each worker also ends
itself when its parent process is gone (a watchdog thread), so none is ever orphaned.
Workers are forked where the platform can, else spawned (the stages are rebuilt from the
run's config). Before forking, the parent compiles the validators the file's first events
need and freezes its objects out of the garbage collector's reach, so the workers share
those pages instead of each making its own copy; a worker reads its chunk line by line
without copying it.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson

from vevents_cli.model import Tally
from vevents_cli.pipeline.records import is_ndjson_name, read_lines
from vevents_cli.pipeline.sources import GZIP_MAGIC, Source

if TYPE_CHECKING:
    from vevents_cli.pipeline import Progress, Stages

MIN_SIZE = 16 * 1024 * 1024  # smaller files are not worth a worker's start-up
CHUNK = 2 * 1024 * 1024
SCAN = 256 * 1024  # read ahead this much at a time to find where a chunk may end
PREPARE = 2 * 1024 * 1024  # the events of this much of a file's start have their validators compiled
WATCH_INTERVAL = 0.5  # how often a worker checks that its parent is still there


def cores() -> int:
    """Worker processes to use: $VEVENTS_JOBS, else the cores this process may run on."""
    jobs = os.environ.get("VEVENTS_JOBS", "")
    if jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_method() -> str:
    import multiprocessing  # only for a run that starts workers

    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def splittable(source: Source) -> bool:
    """A large, plain (not gzip) NDJSON file: so named, or its first line a whole JSON object."""
    if source.path is None:
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
    if is_ndjson_name(source.name):
        return True
    first = head.split(b"\n", 1)[0]
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def chunks(path: Path) -> Iterator[tuple[int, int, int]]:
    """(start, end, first line) of each chunk of about CHUNK bytes.

    A cut falls just before a line that starts with `{` and just after a line that holds
    a whole JSON object: there a serial reader has no value pending and knows the file
    is NDJSON, which is the state a chunk's reader starts in. Read sequentially, a few
    MiB at a time (no mmap: mapped pages would count as this process's memory).
    """
    with path.open("rb") as f:
        start, line, data = 0, 1, b""
        while True:
            data += f.read(max(CHUNK - len(data), 0))
            data, cut = _cut(data, f)
            if cut is None:  # the end of the file
                if data:
                    yield start, start + len(data), line
                return
            piece, data = data[:cut], data[cut:]
            yield start, start + len(piece), line
            line += piece.count(b"\n")
            start += len(piece)


def _cut(data: bytes, f: Any) -> tuple[bytes, int | None]:
    """`data` (extended from `f` as needed) and where its chunk ends; None: at the end of the file."""
    if len(data) < CHUNK:
        return data, None
    pos = CHUNK - 1
    while True:
        found = data.find(b"\n{", pos)
        if found == -1:
            more = f.read(SCAN)
            if not more:
                return data, None
            pos = max(len(data) - 1, 0)
            data += more
            continue
        line_start = data.rfind(b"\n", 0, found) + 1
        if _whole_object(data[line_start:found]):
            return data, found + 1
        pos = found + 1


def _whole_object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


class Workers:
    """Worker processes for one run, started on first use, always ended on exit."""

    def __init__(self, stages: Stages, project: Callable[..., Any], jobs: int | None = None) -> None:
        self.stages = stages
        self.project = project
        self.jobs = jobs or cores()
        self._pool: Any = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()

    def take(self, source: Source) -> bool:
        """Whether this source is worth running on several cores."""
        return self.jobs > 1 and splittable(source)

    def _prepare(self, path: Path, name: str) -> None:
        """Compile, before the workers fork, the validators the first events need, so the workers
        share those pages (copy-on-write) instead of each compiling its own copy."""
        try:
            with path.open("rb") as f:
                head = f.read(PREPARE)
        except OSError:
            return
        self.stages.prepare(name, head.splitlines(keepends=True)[:-1])  # the last line may be cut

    def run(self, source: Source, tally: Tally, progress: Progress | None = None) -> Iterator[Any]:
        """The results of one file's chunks, in order (at most two chunks per worker in flight)."""
        if self._pool is None:
            self._prepare(source.path, source.name)
            import gc
            import multiprocessing

            gc.freeze()  # the collector leaves what exists now alone: its pages stay shared with the workers
            context = multiprocessing.get_context(start_method())
            self._pool = context.Pool(self.jobs, initializer=_init, initargs=(self.stages, self.project, os.getpid()))
        assert source.path is not None
        pending: deque[Any] = deque()
        for start, end, line in chunks(source.path):
            job = (str(source.path), source.name, start, end, line)
            pending.append(self._pool.apply_async(_work, (job,)))
            if len(pending) >= 2 * self.jobs:
                yield from _collect(pending.popleft(), tally, progress)
        while pending:
            yield from _collect(pending.popleft(), tally, progress)


def _collect(result: Any, tally: Tally, progress: Progress | None) -> list[Any]:
    out, counts, size, items = result.get()
    tally.merge(counts)
    if progress is not None:
        progress(size, items)
    return out  # type: ignore[no-any-return]


# --- in the worker process ----------------------------------------------------------------------

_STATE: dict[str, Any] = {}  # this worker's stages and projection, set once by `_init`


def _init(stages: Stages, project: Callable[..., Any], parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _STATE.update(stages=stages, project=project)
    threading.Thread(target=_watch, args=(parent,), name="vevents-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    """End this worker as soon as its parent is gone (killed, crashed): never an orphan."""
    while True:
        time.sleep(WATCH_INTERVAL)
        if os.getppid() != parent:
            os._exit(1)


def _work(job: tuple[str, str, int, int, int]) -> tuple[list[Any], Tally, int, int]:
    path, name, start, end, line = job
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    tally = Tally()
    lines = io.BytesIO(data)  # line by line, without a second copy of the chunk
    results = _STATE["stages"].process(read_lines(name, lines, first_line=line, ndjson=True), tally, _STATE["project"])
    count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return _joined(results), tally, len(data), count


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
