"""The pipeline: the only way from input to results, one item at a time, in input order.

    sources -> records (raw bytes + locator) -> recognise (dialect, catalogue entry)
        -> check (verdict) -> summarise (facts) -> filters -> project(summary) -> results

`run(config, project)` (`runner`) is the one entry point of every command that reads
events. It returns a `Run`: iterate it for results (`project(summary)`, or an `Unreadable`
where input could not be read), then read `run.tally`. How the work is spread is a strategy
chosen there, invisible to commands, and all give the same results in the same order (a
projection that returns None, nothing to print, may have those left out):

- serial: stdin, gzip, small files, pretty JSON, captured requests, live deliveries;
- parallel (`parallel.py`): large plain NDJSON files, cut into chunks for worker processes;
- follow (`follow.py`): one file read as it grows, until Ctrl-C.
- dask (`dask.py`, `--engine dask`): every input's partitions (whole files, chunks of large
  NDJSON files) on a Dask cluster.

`project` runs wherever the events are (perhaps in a worker), so it must be a
module-level function or a `functools.partial` of one, and return something small.

This module only re-exports, each name imported on first use: `--help` and the options
(which import `RunConfig`) load none of the stages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vevents_cli.pipeline.config import RunConfig

if TYPE_CHECKING:
    from vevents_cli.pipeline.runner import Progress, Run, Stages, identity, run
    from vevents_cli.pipeline.schemas import SchemaProblem

__all__ = ["Progress", "Run", "RunConfig", "SchemaProblem", "Stages", "identity", "run"]

_RUNNER = frozenset({"Progress", "Run", "Stages", "identity", "run"})


def __getattr__(name: str) -> Any:
    if name in _RUNNER:
        from vevents_cli.pipeline import runner

        return getattr(runner, name)
    if name == "SchemaProblem":
        from vevents_cli.pipeline.schemas import SchemaProblem

        return SchemaProblem
    raise AttributeError(name)
