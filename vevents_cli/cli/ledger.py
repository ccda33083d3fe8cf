"""`vevents ledger`: reconcile loyalty cards' points from the events (tables, timelines or JSON)."""

from __future__ import annotations

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
def ledger(
    paths: Paths = None,
    card: Annotated[
        str | None, typer.Option("--card", metavar="CODE", help="One card (code or id), event by event.")
    ] = None,
    as_type: AsType = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="text (tables) or json (one document).")] = (
        TextOrJson.text
    ),
    strict: Strict = False,
    schemas: UserSchemas = None,
    allow_empty: AllowEmpty = False,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    engine: EngineOption = Engine.local,
    scheduler: Scheduler = None,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Reconcile loyalty points per card: missing, reordered and duplicate deliveries.

    Each card's events in the order Voucherify created them; the balance after each must
    be the one before plus its change. --card or --customer: that timeline, event by event.

    Exit 1 when a delivery is missing, some input was unreadable or no event was found
    (--allow-empty: 0).

    Examples:

      vevents ledger webhooks.ndjson

      vevents ledger logs/ --since 1d --customer ada@example.test

      vevents ledger webhooks.ndjson --card STAR-7Q2K

      vevents ledger webhooks.ndjson --format json | jq '.cards[].breaks'

      vevents ledger logs/ --engine dask --scheduler tcp://10.0.0.5:8786
    """
    from vevents_cli import ledger as reconcile
    from vevents_cli.output import ledger as render
    from vevents_cli.output import show

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
    timelines = card is not None or filters.customer is not None
    with console.progress(sources, streams, deferred=True) as progress:
        run = start_run(config, reconcile.row, progress)
        document = reconcile.collect(run, streams, card, timelines).document(run.tally)
    render.write(document, streams, fmt.value, timelines)
    if fmt is TextOrJson.text and filters.active:
        streams.note(show.filtered_line(run.tally.filtered))
    nothing = report_empty(run.tally, paths, streams, allow_empty)
    return ExitStatus.of(bool(run.tally.unreadable) or nothing or reconcile.missing(document))
