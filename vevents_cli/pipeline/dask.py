"""The Dask strategy (`--engine dask`): partitions of the inputs run on a Dask cluster.

A partition is a whole source (a small file, a gzip file, a URL), or a chunk of a large
plain NDJSON file cut at line edges by the local parallel path's own rules
(`parallel.splittable`, `parallel.chunks`). Each runs the same stages
(`runner.Stages.process`) in a Dask worker, which reads its bytes itself: local paths at
the same path (a cluster on other machines needs a shared file system, or URLs), URLs
through fsspec. The run's stages go to each worker once (rebuilt there from the run's
config), its projection and `reduce` with each partition. The results come back in input
order, with the counts of each partition merged into the run's tally, so a run's output is
the local run's, byte for byte; a chunk that ends its file (binary data, nothing but
errors) ends it here too. Standard input and the items of inputs that cannot be read are
handled in this process, in their place.

`Engine` connects to the scheduler at `--scheduler ADDRESS` (giving up after
`CONNECT_TIMEOUT` seconds), or starts a local cluster of one single-threaded worker process
per core (`$VEVENTS_JOBS`); either way it is closed when the run ends. At most two
partitions per worker thread are in flight, so the driver's memory stays flat however long
the inputs. Dask itself is imported only here, and this module only when a run asks for it.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vevents_cli.model import Locator, Tally, Unreadable
from vevents_cli.pipeline.config import RunConfig
from vevents_cli.pipeline.parallel import Reduce
from vevents_cli.pipeline.records import ends_source, problem, read_chunk, read_lines, read_source
from vevents_cli.pipeline.sources import Problem, Source, lines

if TYPE_CHECKING:
    from vevents_cli.pipeline.runner import Progress, Stages

CONNECT_TIMEOUT = 5  # seconds to reach --scheduler before giving up
DASK_EXTRA = "--engine dask needs the 'dask' extra: pip install 'vevents[dask]'"


class Unavailable(Exception):
    """The engine cannot run: Dask is not installed, or the scheduler cannot be reached."""


@dataclass(frozen=True, slots=True)
class Part:
    """One partition: a whole source (`start` None), or bytes `start`..`end` of a local NDJSON
    file whose first line is `line` (`end` None: from `start` to the end, read as a serial run)."""

    source: Source
    start: int | None = None
    end: int | None = None
    line: int = 1
    input: int = 0  # which of the run's sources it is part of (a file named twice is read twice)


def partitions(sources: Iterable[Source | Problem]) -> Iterator[Part | Source | Problem]:
    """Each input as partitions, in input order; stdin and problems stay as they are (read here)."""
    from vevents_cli.pipeline import parallel

    for n, source in enumerate(sources):
        if isinstance(source, Problem) or source.stdin:
            yield source
        elif source.path is not None and parallel.splittable(source):
            for start, end, line in parallel.chunks(source.path):
                yield Part(source, start, end, line, n)
        else:
            yield Part(source, input=n)


class Engine:
    """A Dask client for one run (and the local cluster it started, if any)."""

    def __init__(self, config: RunConfig) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise Unavailable(DASK_EXTRA) from exc
        self.cluster: Any = None
        if config.scheduler is None:
            from vevents_cli.pipeline.parallel import cores

            self.cluster = distributed.LocalCluster(
                n_workers=config.jobs or cores(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},  # (its HTTP server on any free port)
                silence_logs=50,  # logging.CRITICAL: the run's own output only
            )
            self.client: Any = distributed.Client(self.cluster)
        else:
            try:
                self.client = distributed.Client(config.scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, ValueError, TypeError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise Unavailable(
                    f"cannot reach the Dask scheduler at {config.scheduler} (--scheduler): {reason}"
                ) from exc
        threads = sum(self.client.nthreads().values())
        if not threads:
            self.close()
            raise Unavailable(f"the Dask scheduler at {config.scheduler} (--scheduler) has no workers")
        self.window = 2 * threads

    def close(self) -> None:
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def run(
        self,
        sources: Iterable[Source | Problem],
        stages: Stages,
        project: Callable[..., Any],
        tally: Tally,
        progress: Progress | None = None,
        reduce: Reduce | None = None,
    ) -> Iterator[Any]:
        """The results of every source, in input order (each partition's passed through `reduce`
        in its worker, as the local workers do: stats sends one partial aggregate per partition);
        the client is closed at the end."""
        shared = self.client.scatter(stages, broadcast=True, hash=False)  # rebuilt once in each worker
        pending: deque[tuple[Part, Any]] = deque()
        ended: set[int] = set()  # inputs a chunk gave up (binary data...): their later chunks are not read
        try:
            for part in partitions(sources):
                if not isinstance(part, Part):
                    while pending:
                        yield from _collect(*pending.popleft(), ended, tally, progress)
                    yield from _here(part, stages, project, tally, progress)
                    continue
                pending.append((part, self.client.submit(_partition, shared, project, reduce, part, pure=False)))
                if len(pending) >= self.window:
                    yield from _collect(*pending.popleft(), ended, tally, progress)
            while pending:
                yield from _collect(*pending.popleft(), ended, tally, progress)
        finally:
            for _, future in pending:
                future.cancel()
            self.close()


def _here(
    item: Source | Problem, stages: Stages, project: Callable[..., Any], tally: Tally, progress: Progress | None
) -> Iterator[Any]:
    """Standard input, or an input that could not be read, in this process (as a local run)."""
    if isinstance(item, Problem):
        found = problem(item)
        if isinstance(found, Unreadable):
            tally.count(found)
        yield found
        return
    config = stages.config
    items = read_source(item, config.max_value_size, config.exact_numbers, config.arrays_whole)
    yield from stages.process(items, tally, project, progress)


def _collect(part: Part, future: Any, ended: set[int], tally: Tally, progress: Progress | None) -> Iterator[Any]:
    """A partition's results (none for a chunk of a file an earlier chunk gave up)."""
    if part.input in ended:
        future.cancel()
        return
    results, counts, size, count = future.result()
    tally.merge(counts)
    if progress is not None:
        progress(size, count)
    yield from results
    if part.start is not None and any(ends_source(item) for item in results):
        ended.add(part.input)


# --- in a Dask worker ----------------------------------------------------------------------------


def _partition(
    stages: Stages, project: Callable[..., Any], reduce: Reduce | None, part: Part
) -> tuple[list[Any], Tally, int, int]:
    """One partition through the stages: (results, counts, bytes read, items read)."""
    tally = Tally()
    read = [0, 0]

    def counted(nbytes: int, items: int) -> None:
        read[0] += nbytes
        read[1] += items

    results = _joined(stages.process(_items(part, stages.config), tally, project, counted))
    if reduce is not None:
        results = reduce(results)
    return results, tally, read[0], read[1]


def _items(part: Part, config: RunConfig) -> Iterator[Any]:
    limit, exact, whole = config.max_value_size, config.exact_numbers, config.arrays_whole
    source = part.source
    if part.start is None:
        yield from read_source(source, limit, exact, whole)
        return
    assert source.path is not None
    try:
        with Path(source.path).open("rb") as f:
            f.seek(part.start)
            if part.end is not None:
                yield from read_chunk(source.name, f.read(part.end - part.start), part.line, limit, exact, whole)
                return
            yield from read_lines(
                source.name,
                lines(f, limit),
                first_line=part.line,
                ndjson=True,
                limit=limit,
                exact=exact,
                arrays_whole=whole,
            )
    except OSError as exc:
        yield Unreadable(Locator(source.name, part.line), f"read error: {exc.strerror or exc}")


def _joined(results: Iterable[Any]) -> list[Any]:
    """The results to send back: each run of bytes as one (fewer objects to send), no None (a
    projection's nothing to print)."""
    out: list[Any] = []
    kept = (result for result in results if result is not None)
    for is_bytes, group in itertools.groupby(kept, key=lambda result: isinstance(result, bytes)):
        if is_bytes:
            out.append(b"".join(group))
        else:
            out.extend(group)
    return out
