"""One run: the stages every event goes through, and the strategy that spreads the work.

`Stages` is recognise -> check -> summarise -> filter -> project, for one process. `run`
builds a `Run`; iterating it reads every input and yields the results in input order:
serial for stdin, gzip, small files, pretty JSON, captured requests and live deliveries;
`parallel` for large plain NDJSON files; `follow` for one file read as it grows; `dask`
(`--engine dask`) for every input, on a Dask cluster. The stages
and strategies are imported when a run starts, not with this module: `--help` and the
options need none of them, a small run never imports `multiprocessing`, and a run of small
files not even `parallel`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar, overload

from vevents_cli.model import Note, Read, Record, Summary, Tally, Unreadable
from vevents_cli.pipeline.config import PARALLEL_MIN_SIZE, RunConfig

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (bytes read, items read) since the last call


def identity(summary: Summary) -> Summary:
    """The projection that keeps the summary as it is."""
    return summary


class Stages:
    """recognise -> check -> summarise -> filter -> project, for one process.

    Built once per run (compiling nothing until an event needs it); worker processes
    inherit it (fork) or rebuild it from its config (spawn: see `__reduce__`).
    """

    def __init__(self, config: RunConfig) -> None:
        from vevents_cli.pipeline.check import SchemaSet

        self.config = config
        self.schemas = SchemaSet(config.strict, config.user_schemas) if config.validate else None
        self.keep = config.filters.matches if config.filters.active else None
        self.facts = config.needs_facts

    def __reduce__(self) -> tuple[Any, ...]:
        return (Stages, (self.config,))

    def prepare(self, name: str, lines: list[bytes]) -> None:
        """Compile the validators the events of these lines (a file's first lines) need: each kind's
        plan's, and a legacy level validator where one of these events needs it (`pipeline.check`)."""
        if self.schemas is None:
            return
        from vevents_cli.pipeline import recognise
        from vevents_cli.pipeline.records import read_lines

        config, schemas = self.config, self.schemas
        for item in read_lines(name, lines, ndjson=True, limit=config.max_value_size, exact=config.exact_numbers):
            if isinstance(item, Record):
                event = recognise.recognise(item, config.as_type)
                if schemas.plan(event).data_default_level is not None:
                    schemas.check(event)

    def process(
        self,
        items: Iterable[Read],
        tally: Tally,
        project: Callable[[Summary], T],
        progress: Progress | None = None,
    ) -> Iterator[T | Unreadable | Note]:
        from vevents_cli.pipeline import recognise

        as_type, schemas, keep = self.config.as_type, self.schemas, self.keep
        event_of = recognise.recognise
        summary_of: Callable[..., Summary] = Summary  # without facts: the event and its verdict (`verdict_only`)
        if self.facts:
            from vevents_cli.pipeline import summarise  # (and the facts' dataclasses: only for runs that read them)

            summary_of = summarise.summarise
        for item in items:
            if progress is not None:
                progress(len(item.raw) + 1 if isinstance(item, Record) else 0, 1)
            if isinstance(item, Note):
                yield item
                continue
            if isinstance(item, Unreadable):
                tally.count(item)
                yield item
                continue
            event = event_of(item, as_type)
            summary = summary_of(event, schemas.check(event) if schemas is not None else None)
            if keep is not None and not keep(summary):
                tally.filtered += 1
                continue
            tally.count(summary)
            yield project(summary)


class Run(Generic[T]):
    """The results of one run, in input order; `tally` is complete once they are all read."""

    def __init__(
        self,
        config: RunConfig,
        project: Callable[[Summary], T],
        progress: Progress | None,
        records: Iterable[Read] | None,
        reduce: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        self.config = config
        self._reduce = reduce
        self.tally = Tally()
        self.stages = Stages(config)  # raises SchemaProblem for a broken --schemas DIR
        self.engine = _engine(config)  # raises dask.Unavailable: no Dask, no scheduler
        self._project = project
        self._progress = progress
        self._records = records

    def __iter__(self) -> Iterator[T | Unreadable | Note]:
        config, stages, tally, project = self.config, self.stages, self.tally, self._project
        if self._records is not None:  # live deliveries (listen)
            yield from stages.process(self._records, tally, project, self._progress)
        elif config.follow:
            from vevents_cli.output.text import name as shown
            from vevents_cli.pipeline import follow
            from vevents_cli.pipeline.records import read_lines

            name, limit = config.inputs[0], config.max_value_size
            lines = follow.until_interrupted(follow.lines(name, limit=limit))
            items = read_lines(
                shown(name), lines, limit=limit, exact=config.exact_numbers, arrays_whole=config.arrays_whole
            )
            yield from stages.process(items, tally, project, self._progress)
        else:
            yield from self._sources()

    def _sources(self) -> Iterator[T | Unreadable | Note]:
        from vevents_cli.pipeline.records import problem, read_source
        from vevents_cli.pipeline.sources import Problem, expand

        config, stages, tally, project = self.config, self.stages, self.tally, self._project
        if self.engine is not None:
            yield from self.engine.run(expand(config.inputs), stages, project, tally, self._progress, self._reduce)
            return
        with contextlib.ExitStack() as stack:
            workers = None  # `parallel.Workers`, made for the first file large enough to be worth them
            for source in expand(config.inputs):
                if isinstance(source, Problem):
                    item = problem(source)
                    if isinstance(item, Unreadable):
                        tally.count(item)
                    yield item
                    continue
                if workers is None and _large(source):
                    from vevents_cli.pipeline import parallel

                    workers = stack.enter_context(parallel.Workers(stages, project, config.jobs, self._reduce))
                if workers is not None and workers.take(source):
                    yield from workers.run(source, tally, self._progress)
                else:
                    items = read_source(source, config.max_value_size, config.exact_numbers, config.arrays_whole)
                    yield from stages.process(items, tally, project, self._progress)


def _large(source: Any) -> bool:
    """Whether a source is a file large enough that worker processes may be worth it
    (`parallel.splittable` decides): the parallel module is imported only for such a file."""
    parallel = sys.modules.get(f"{__package__}.parallel")  # (its MIN_SIZE as set, once it is imported)
    least = parallel.MIN_SIZE if parallel is not None else PARALLEL_MIN_SIZE
    return (source.size() or 0) >= least if source.path is not None else False


def _engine(config: RunConfig) -> Any:
    """The Dask engine of a run that asks for it (connected now, before any output), else None."""
    if config.engine != "dask" or config.follow:
        return None
    from vevents_cli.pipeline import dask

    return dask.Engine(config)


@overload
def run(
    config: RunConfig,
    *,
    progress: Progress | None = None,
    records: Iterable[Read] | None = None,
    reduce: Callable[[list[Any]], list[Any]] | None = None,
) -> Run[Summary]: ...


@overload
def run(
    config: RunConfig,
    project: Callable[[Summary], T],
    *,
    progress: Progress | None = None,
    records: Iterable[Read] | None = None,
    reduce: Callable[[list[Any]], list[Any]] | None = None,
) -> Run[T]: ...


def run(
    config: RunConfig,
    project: Callable[[Summary], Any] = identity,
    *,
    progress: Progress | None = None,
    records: Iterable[Read] | None = None,
    reduce: Callable[[list[Any]], list[Any]] | None = None,
) -> Run[Any]:
    """The results of every input of `config`, each summary passed through `project`.

    `records` replaces the inputs by records already read (deliveries arriving at
    `vevents listen`); `reduce` is applied in a worker process to each chunk's results
    (`pipeline.parallel`). Raises `SchemaProblem` when `--schemas DIR` cannot be used.
    """
    return Run(config, project, progress, records, reduce)
