"""The parallel strategy: large NDJSON files cut into chunks, processed by worker processes.

A large, plain (not gzip) NDJSON file (by its name, or a first line that is a whole JSON
object) is cut into ~2 MiB chunks, each just before a line that starts with `{`. Each chunk goes through the same
stages (`runner.Stages.process`) in a worker, reading as a serial run would at that line (the
source is known to be NDJSON there), and the results come back in input order: the
output is a serial run's, byte for byte. At most two chunks per worker are in flight,
so memory stays flat however slowly the results are written. A run may give a `reduce`:
the worker applies it to each chunk's results before sending them back (`stats` sends one
partial aggregate per chunk instead of a row per event).

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

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from io import BufferedReader
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson

from vevents_cli.model import Locator, Tally, Unreadable
from vevents_cli.pipeline.config import PARALLEL_MIN_SIZE
from vevents_cli.pipeline.records import ends_source, is_ndjson_name, read_chunk, read_lines
from vevents_cli.pipeline.sources import GZIP_MAGIC, Source, lines

if TYPE_CHECKING:
    from vevents_cli.pipeline.runner import Progress, Stages

Reduce = Callable[[list[Any]], list[Any]]  # a chunk's results (in order) -> what is sent back instead

MIN_SIZE = PARALLEL_MIN_SIZE  # smaller files are not worth a worker's start-up (tests make it smaller)
CHUNK = 2 * 1024 * 1024
SCAN = 64 * 1024  # read ahead this much at a time to find where a chunk may end
BACK = 64 * 1024  # and this much before, to see the line before a cut
COUNT_BLOCK = 1024 * 1024  # lines are counted this much at a time
PREPARE = 2 * 1024 * 1024  # the events of this much of a file's start have their validators compiled
MAX_CHUNK = 8 * CHUNK  # no cut found within this: the rest of the file is read serially
WATCH_INTERVAL = 0.5  # how often a worker checks that its parent is still there


def cores() -> int:
    """Worker processes to use: $VEVENTS_JOBS, else the cores this process may run on."""
    jobs = os.environ.get("VEVENTS_JOBS", "")
    if jobs.isascii() and jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_method() -> str:
    import multiprocessing  # only for a run that starts workers

    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def splittable(source: Source) -> bool:
    """A large, plain (not gzip) file named *.ndjson / *.jsonl, or whose first line is a whole
    JSON object: NDJSON."""
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


def chunks(path: Path) -> Iterator[tuple[int, int | None, int]]:
    """(start, end, first line) of each chunk of about CHUNK bytes; end None: the rest of
    the file, to be read serially from `start` (no cut found within a few chunks' size,
    e.g. a line of hundreds of MiB: it is never held whole).

    A cut falls just before a line that starts with `{` and just after a line that holds
    a whole JSON object: there a serial reader has no value pending and knows the file
    is NDJSON, which is the state a chunk's reader starts in. Only a window around each
    cut is read as bytes; the rest is read once, into one reused buffer, to count its lines
    (no mmap: mapped pages would count as this process's memory).
    """
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        buffer = bytearray(COUNT_BLOCK)
        start, line = 0, 1
        while start < size:
            cut = _next_cut(f, start, size) if size - start >= CHUNK else None
            if cut is None:  # the end of the file
                yield start, size, line
                return
            if cut < 0:  # no place to cut: the rest is read serially
                yield start, None, line
                return
            yield start, cut, line
            line += _count_lines(f, start, cut, buffer)
            start = cut


def _next_cut(f: BufferedReader, start: int, size: int) -> int | None:
    """Where the chunk from `start` ends: the first good cut at least CHUNK bytes in; None: no
    cut before the end of the file; -1: none within MAX_CHUNK bytes."""
    pos = start + CHUNK - 1  # the `\n` of a `\n{` at or after here
    base = max(start, pos - BACK)  # the window starts a little earlier, for the line before the cut
    f.seek(base)
    data = f.read(pos - base + SCAN)
    search = pos - base
    while True:
        found = data.find(b"\n{", search)
        if found == -1:
            if base + len(data) >= size:
                return None
            if base + len(data) - start > MAX_CHUNK:
                return -1
            search = max(len(data) - 1, 0)
            data += f.read(SCAN)
            continue
        line_start = data.rfind(b"\n", 0, found) + 1
        if line_start == 0 and base > start:  # the line before began before the window: read from `start`
            f.seek(start)
            data, search, base = f.read(base - start) + data, found + base - start, start
            f.seek(base + len(data))
            continue
        if _whole_object(data[line_start:found]):
            return base + found + 1
        search = found + 1


def _count_lines(f: BufferedReader, start: int, end: int, buffer: bytearray) -> int:
    """The line ends in bytes start..end of the file, read through `buffer`."""
    f.seek(start)
    view = memoryview(buffer)
    count, left = 0, end - start
    while left > 0:
        n = f.readinto(view[: min(len(buffer), left)])
        if not n:
            break
        count += buffer.count(b"\n", 0, n)
        left -= n
    return count


def _whole_object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


class Workers:
    """Worker processes for one run, started on first use, always ended on exit."""

    def __init__(
        self, stages: Stages, project: Callable[..., Any], jobs: int | None = None, reduce: Reduce | None = None
    ) -> None:
        self.stages = stages
        self.project = project
        self.jobs = jobs or cores()
        self.reduce = reduce
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

    def _prepare(self, path: Path | None, name: str) -> None:
        """Compile, before the workers fork, the validators the first events need, so the workers
        share those pages (copy-on-write) instead of each compiling its own copy."""
        if path is None:
            return
        try:
            with path.open("rb") as f:
                head = f.read(PREPARE)
        except OSError:
            return
        self.stages.prepare(name, head.splitlines(keepends=True)[:-1])  # the last line may be cut

    def run(self, source: Source, tally: Tally, progress: Progress | None = None) -> Iterator[Any]:
        """The results of one file's chunks, in order (at most two chunks per worker in flight)."""
        if self._pool is None:
            import gc
            import multiprocessing

            self._prepare(source.path, source.name)
            gc.freeze()  # the collector leaves what exists now alone: its pages stay shared with the workers
            context = multiprocessing.get_context(start_method())
            self._pool = context.Pool(
                self.jobs, initializer=_init, initargs=(self.stages, self.project, os.getpid(), self.reduce)
            )
        assert source.path is not None
        pending: deque[Any] = deque()
        for start, end, line in chunks(source.path):
            if end is None:
                while pending:
                    out, stop = _collect(pending.popleft(), tally, progress)
                    yield from out
                    if stop:
                        return
                yield from self._rest(source, start, line, tally, progress)
                return
            job = (str(source.path), source.name, start, end, line)
            pending.append(self._pool.apply_async(_work, (job,)))
            if len(pending) >= 2 * self.jobs:
                out, stop = _collect(pending.popleft(), tally, progress)
                yield from out
                if stop:  # a serial run gives the source up there (binary data, nothing but errors)
                    return
        while pending:
            out, stop = _collect(pending.popleft(), tally, progress)
            yield from out
            if stop:
                return

    def _rest(self, source: Source, start: int, line: int, tally: Tally, progress: Progress | None) -> Iterator[Any]:
        """The file from `start` (a chunk's start) to its end, read here as a serial run would."""
        assert source.path is not None
        config = self.stages.config
        limit = config.max_value_size
        try:
            with source.path.open("rb") as f:
                f.seek(start)
                items = read_lines(
                    source.name,
                    lines(f, limit),
                    first_line=line,
                    ndjson=True,
                    limit=limit,
                    exact=config.exact_numbers,
                    arrays_whole=config.arrays_whole,
                )
                yield from self.stages.process(items, tally, self.project, progress)
        except OSError as exc:
            item = Unreadable(Locator(source.name, line), f"read error: {exc.strerror or exc}")
            tally.count(item)
            yield item


def _collect(result: Any, tally: Tally, progress: Progress | None) -> tuple[list[Any], bool]:
    """A chunk's results, and whether reading the file stops there."""
    out, counts, size, items = result.get()
    tally.merge(counts)
    if progress is not None:
        progress(size, items)
    return out, any(ends_source(item) for item in out)


# --- in the worker process ----------------------------------------------------------------------

_STATE: dict[str, Any] = {}  # this worker's stages and projection, set once by `_init`


def _init(stages: Stages, project: Callable[..., Any], parent: int, reduce: Reduce | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _STATE.update(stages=stages, project=project, reduce=reduce)
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
    stages = _STATE["stages"]
    config = stages.config
    items = read_chunk(name, data, line, config.max_value_size, config.exact_numbers, config.arrays_whole)
    results = _joined(stages.process(items, tally, _STATE["project"]))
    if _STATE["reduce"] is not None:
        results = _STATE["reduce"](results)
    return results, tally, len(data), data.count(b"\n") + (not data.endswith(b"\n"))


def _joined(results: Iterable[Any]) -> list[Any]:
    """Runs of bytes joined into one (fewer objects to send back); None (a projection with
    nothing to print, as `validate -q`'s) not sent at all; other results as they are."""
    out: list[Any] = []
    run: list[bytes] = []
    for result in results:
        if result is None:
            continue
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
