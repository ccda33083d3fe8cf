"""`vevents stats`: aggregate a log into tables (or one JSON document)."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import (
    NO_FILTERS,
    AllowEmpty,
    AsType,
    Engine,
    EngineOption,
    MaxValueSize,
    Paths,
    Scheduler,
    Strict,
    TextOrJson,
    UserSchemas,
    filtered,
    inputs,
    report_empty,
    run_config,
    start_run,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.filters import Filters


@filtered
def stats(
    paths: Paths = None,
    as_type: AsType = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="text (tables) or json (one document).")] = (
        TextOrJson.text
    ),
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="Rows per table.")] = 10,
    every: Annotated[bool, typer.Option("--all", help="Every row, not only the top N (not with --top).")] = False,
    strict: Strict = False,
    schemas: UserSchemas = None,
    allow_empty: AllowEmpty = False,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    engine: EngineOption = Engine.local,
    scheduler: Scheduler = None,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Aggregate a log: events by type, a timeline, customers, campaigns, redemptions, retries, order.

    Exit 1 when some input was unreadable or no event was found (--allow-empty: 0).

    Examples:

      vevents stats webhooks.ndjson.gz

      vevents stats logs/ --since 1d --top 20

      vevents stats logs/ --all

      vevents stats webhooks.ndjson --format json | jq .duplicates
      vevents stats webhooks.ndjson --format json | jq .timeline  # when

      vevents stats logs/ | less  # in a pipe the tables show whole values

      vevents stats "s3://bucket/webhooks/2026-*.ndjson.gz" --engine dask --format json
    """
    from vevents_cli import stats as aggregate
    from vevents_cli.output import show
    from vevents_cli.output import stats as render

    sources = inputs(paths, allow_empty)
    config = run_config(
        sources,
        as_type=as_type,
        strict=strict,
        user_schemas=schemas,
        filters=filters,
        max_value_size=max_value_size,
        engine=engine,
        scheduler=scheduler,
    )
    streams = console.streams()
    with console.progress(sources, streams, deferred=True) as progress:
        run = start_run(
            config, functools.partial(aggregate.row, as_type=config.as_type), progress, reduce=aggregate.reduce
        )
        document = aggregate.collect(run, streams).document(run.tally, None if every else top)
    render.write(document, streams, fmt.value)
    if fmt is TextOrJson.text and filters.active:
        streams.note(show.filtered_line(run.tally.filtered))
    nothing = report_empty(run.tally, paths, streams, allow_empty)
    return ExitStatus.of(bool(run.tally.unreadable) or nothing)
