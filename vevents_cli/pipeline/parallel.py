"""The parallel strategy: large NDJSON files cut into chunks, processed by worker processes.

A large, plain (not gzip) NDJSON file (by its name, or a first line that is a whole JSON
object) is cut into ~2 MiB chunks, each just before a line that starts with `{`. Each chunk goes through the same
stages (`runner.Stages.process`) in a worker, reading as a serial run would at that line (the
source is known to be NDJSON there), and the results come back in input order: the
output is a serial run's, byte for byte. At most two chunks per worker are in flight,
so memory stays flat however slowly the results are written. A run may give a `reduce`:
the worker applies it to each chunk's results before sending them back (`stats` sends one
partial aggregate per chunk instead of a row per event).

Workers never outlive the run, and no way out of it waits on them without a bound. Each
worker has its own pipe to the parent (chunks in, results out) and shares no queue or
lock with the others, so one killed at any moment cannot block the rest: a dead worker
ends its pipe, and the run with one error. `Workers` is a context manager that ends them
on any exit (end, `| head`, Ctrl-C, SIGTERM, an exception): SIGTERM, a bounded wait,
SIGKILL for any left. Each worker also ends itself when its parent process is gone (its
pipe ends; a watchdog thread besides), so none is ever orphaned. A run starts workers as
chunks need them: never more than its files have chunks, nor than JOBS_PER_CORE per core.
Workers are forked where the platform can, else spawned (the stages are rebuilt from the
run's config). Before forking, the parent compiles the validators the file's first events
need and freezes its objects out of the garbage collector's reach, so the workers share
those pages instead of each making its own copy; a worker reads its chunk line by line
without copying it.

A file truncated while it is read (logrotate's copytruncate) is read to its new end: the
cutting stops there, a chunk that comes back short is processed as far as it goes, and one
unreadable item says the file was truncated.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

import orjson

from vevents_cli.model import Locator, Tally, Unreadable
from vevents_cli.pipeline.config import PARALLEL_MIN_SIZE
from vevents_cli.pipeline.records import (
    TRUNCATED,
    ends_source,
    file_size,
    is_ndjson_name,
    read_chunk,
    read_lines,
    shrank,
)
from vevents_cli.pipeline.sources import GZIP_MAGIC, Source, lines

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

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
JOBS_PER_CORE = 4  # at most this many workers per core, whatever $VEVENTS_JOBS asks
STOP_WAIT = 1.0  # seconds the workers have to end after SIGTERM, before SIGKILL
KILL_WAIT = 2.0  # seconds to reap them after SIGKILL
SIGNAL_WAIT = 1.0  # seconds a worker ended by SIGTERM leaves for the same signal to reach the parent


def cores() -> int:
    """Worker processes to use: $VEVENTS_JOBS, else the cores this process may run on (never more
    than `max_jobs`; a run also never starts more workers than its files have chunks)."""
    jobs = os.environ.get("VEVENTS_JOBS", "")
    if jobs.isascii() and jobs.isdigit() and int(jobs) > 0:
        return min(int(jobs), max_jobs())
    return _available()


def max_jobs() -> int:
    """The most workers a run starts: JOBS_PER_CORE per core this process may run on."""
    return JOBS_PER_CORE * _available()


def _available() -> int:
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
            more = f.read(SCAN)
            if not more:  # the file shrank (truncated while it is read): its end is here
                return None
            data += more
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
    """Worker processes for one run, started as chunks need them, always ended on exit.

    Each worker has its own pipe (jobs in, results out, in order) and nothing else shared
    with the parent or its siblings: no queue, no lock a dying worker could leave held.
    The parent waits only on the pipe of the worker whose chunk is next in input order; a
    worker that dies ends its pipe (an error, never a wait). `close` ends every worker:
    SIGTERM, a bounded wait, SIGKILL for any left, a bounded wait again.
    """

    def __init__(
        self, stages: Stages, project: Callable[..., Any], jobs: int | None = None, reduce: Reduce | None = None
    ) -> None:
        self.stages = stages
        self.project = project
        self.jobs = min(jobs or cores(), max_jobs())
        self.reduce = reduce
        self._workers: list[_Worker] = []
        self._context: Any = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """End every worker, within about STOP_WAIT + KILL_WAIT seconds whatever they are doing."""
        workers, self._workers = self._workers, []
        _OPEN.clear()
        try:
            for worker in workers:
                worker.conn.close()  # an idle worker ends at once; one sending a result gets EPIPE
                worker.process.terminate()
            deadline = time.monotonic() + STOP_WAIT
            for worker in workers:
                worker.process.join(max(deadline - time.monotonic(), 0))
        finally:  # (even when a second signal interrupts the wait above)
            for worker in workers:
                if worker.process.exitcode is None:
                    worker.process.kill()
            deadline = time.monotonic() + KILL_WAIT
            for worker in workers:
                worker.process.join(max(deadline - time.monotonic(), 0))

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

    def _worker(self, source: Source, busy: dict[int, int]) -> _Worker:
        """The worker for the next chunk: a new one while fewer than `jobs` run (so never more
        workers than chunks), else the one with the fewest chunks in flight."""
        if len(self._workers) < self.jobs:
            if self._context is None:
                import gc
                import multiprocessing  # only for a run that starts workers

                self._prepare(source.path, source.name)
                gc.freeze()  # the collector leaves what exists now alone: its pages stay shared with the workers
                self._context = multiprocessing.get_context(start_method())
            self._workers.append(_Worker.start(self._context, self.stages, self.project, self.reduce))
            return self._workers[-1]
        return min(self._workers, key=lambda worker: busy.get(id(worker), 0))

    def run(self, source: Source, tally: Tally, progress: Progress | None = None) -> Iterator[Any]:
        """The results of one file's chunks, in order (at most two chunks per worker in flight).

        A chunk that comes back shorter than it was cut (the file was truncated while it was
        read: logrotate's copytruncate) is processed as far as it goes; one unreadable item
        says so, and the rest of the file is not read."""
        pending: deque[_Job] = deque()
        yield from self._in_order(source, tally, progress, pending)
        for job in pending:  # the source ended early: the results of chunks still in flight are dropped
            job.worker.result()

    def _in_order(self, source: Source, tally: Tally, progress: Progress | None, pending: deque[_Job]) -> Iterator[Any]:
        assert source.path is not None
        busy: dict[int, int] = {}  # chunks in flight, by worker

        def collect() -> tuple[list[Any], bool]:
            job = pending.popleft()
            busy[id(job.worker)] -= 1
            out, counts, size, items = job.worker.result()
            tally.merge(counts)
            if progress is not None:
                progress(size, items)
            if size < job.size:
                item = Unreadable(Locator(source.name, 0), TRUNCATED)
                tally.count(item)
                return [*out, item], True
            return out, any(ends_source(item) for item in out)

        for start, end, line in chunks(source.path):
            if end is None:
                while pending:
                    out, stop = collect()
                    yield from out
                    if stop:
                        return
                yield from self._rest(source, start, line, tally, progress)
                return
            worker = self._worker(source, busy)
            worker.send((str(source.path), source.name, start, end, line))
            pending.append(_Job(worker, end - start))
            busy[id(worker)] = busy.get(id(worker), 0) + 1
            if len(pending) >= 2 * self.jobs:
                out, stop = collect()
                yield from out
                if stop:  # a serial run gives the source up there (binary data, nothing but errors)
                    return
        while pending:
            out, stop = collect()
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
                size = file_size(f)
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
                if size is not None and shrank(f, size):
                    item = Unreadable(Locator(source.name, 0), TRUNCATED)
                    tally.count(item)
                    yield item
        except OSError as exc:
            item = Unreadable(Locator(source.name, line), f"read error: {exc.strerror or exc}")
            tally.count(item)
            yield item


@dataclass(frozen=True)
class _Job:
    worker: _Worker
    size: int  # the chunk's bytes


class WorkerDied(RuntimeError):
    """A worker process ended without sending its chunk's results (killed from outside)."""


@dataclass(frozen=True)
class _Worker:
    """One worker process and the parent's end of its pipe."""

    process: Any  # multiprocessing.Process
    conn: Connection

    @staticmethod
    def start(context: Any, stages: Stages, project: Callable[..., Any], reduce: Reduce | None = None) -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, stages, project, os.getpid(), reduce), name="vevents-worker", daemon=True
        )
        _OPEN.append(ours)  # (closed in the workers forked from now on: a pipe ends when its parent does)
        try:
            process.start()
        except BaseException:
            _OPEN.remove(ours)
            ours.close()
            raise
        finally:
            theirs.close()  # only the worker holds its end: the worker's death ends the pipe for the parent
        return _Worker(process, ours)

    def send(self, job: tuple[str, str, int, int, int]) -> None:
        try:
            self.conn.send(job)  # a few bytes: never blocks (at most two jobs are ever queued)
        except OSError:
            self._died()

    def result(self) -> tuple[list[Any], Tally, int, int]:
        """The results of this worker's oldest chunk in flight; raises the worker's exception."""
        try:
            ok, value = self.conn.recv()
        except (EOFError, OSError):
            self._died()
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def _died(self) -> NoReturn:
        self.conn.close()
        self.process.join(KILL_WAIT)
        code = self.process.exitcode
        if code in (-signal.SIGTERM, -signal.SIGINT):  # a signal to the process group: ours is on its way,
            time.sleep(SIGNAL_WAIT)  # and its handler ends this wait (143 or 130, not an error)
        how = f"signal {-code}" if isinstance(code, int) and code < 0 else f"status {code}"
        raise WorkerDied(f"a worker process ended before sending its results ({how})")


# --- in the worker process ----------------------------------------------------------------------

_OPEN: list[Connection] = []  # the parent's ends of the running workers' pipes (in the parent)


def _serve(
    conn: Connection, stages: Stages, project: Callable[..., Any], parent: int, reduce: Reduce | None = None
) -> None:
    """A worker's life: chunks in, their results out, in order, until its pipe ends."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the workers
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for inherited in _OPEN:  # (forked: the parent's ends of the pipes, this worker's own included)
            inherited.close()
        threading.Thread(target=_watch, args=(parent,), name="vevents-watchdog", daemon=True).start()
        while True:
            try:
                job = conn.recv()
            except EOFError:  # the parent closed the pipe, or is gone
                return
            try:
                result: tuple[bool, Any] = (True, _work(stages, project, job, reduce))
            except Exception as exc:  # the parent raises it, as a serial run would have
                result = (False, exc)
            try:
                conn.send(result)
            except OSError:
                raise
            except Exception as exc:  # a result that cannot be pickled (nothing was sent)
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    except OSError:  # the parent is gone (a broken pipe)
        return
    finally:
        os._exit(0)  # never the parent's exit handlers, never its buffered output flushed twice


def _watch(parent: int) -> None:
    """End this worker as soon as its parent is gone (killed, crashed): never an orphan."""
    while True:
        time.sleep(WATCH_INTERVAL)
        if os.getppid() != parent:
            os._exit(1)


def _work(
    stages: Stages, project: Callable[..., Any], job: tuple[str, str, int, int, int], reduce: Reduce | None = None
) -> tuple[list[Any], Tally, int, int]:
    """A chunk's results, counts, the bytes read (fewer than asked: the file was truncated) and
    the lines read."""
    path, name, start, end, line = job
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    tally = Tally()
    config = stages.config
    items = read_chunk(name, data, line, config.max_value_size, config.exact_numbers, config.arrays_whole)
    results = _joined(stages.process(items, tally, project))
    if reduce is not None:
        results = reduce(results)
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
