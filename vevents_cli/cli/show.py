"""`vevents show`: what matters in each event, as panels, a table, or NDJSON."""

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
    followed,
    inputs,
    report_empty,
    run_config,
    several_sources,
    start_run,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.filters import Filters


@filtered
def show(
    paths: Paths = None,
    as_type: AsType = None,
    table: Annotated[
        bool,
        typer.Option(
            "--table", help="One line per event (for logs): fits the terminal; tab-separated whole values in a pipe."
        ),
    ] = False,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Also print the payload (and HTTP headers): after each panel or table row, or as `payload` in JSON.",
        ),
    ] = False,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="text (panels/table) or json (NDJSON).")] = (
        TextOrJson.text
    ),
    strict: Strict = False,
    schemas: UserSchemas = None,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep reading the one PATH as it grows, like tail -f (survives truncation and rotation; "
            "not for .gz: a compressed file cannot be followed).",
        ),
    ] = False,
    allow_empty: AllowEmpty = False,
    engine: EngineOption = Engine.local,
    scheduler: Scheduler = None,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Show what matters in each event: customer, voucher, points, campaign, order.

    Exit 0 when everything could be read and shown (invalid events are marked, not
    failed: use `vevents validate` in CI), 1 when some input was unreadable or no event
    was found.

    Examples:

      vevents show samples/

      pbpaste | vevents show --raw

      vevents show webhooks.ndjson.gz --table

      vevents show logs/ --table | cut -f2,3  # in a pipe: tab-separated, whole values

      vevents show payload.json --raw  # the payload after the panel, copyable

      vevents show fixtures/ --allow-empty

      vevents show log.ndjson --format json | jq .points

      vevents show webhooks.ndjson --follow --table --type 'customer.*'

      vevents show -f webhooks.ndjson --table

      vevents show https://example.test/webhooks.ndjson.gz --format json

      vevents show big.ndjson --engine dask --format json > facts.ndjson
    """
    from vevents_cli.output import show as render

    sources = followed(paths) if follow else inputs(paths, allow_empty)
    config = run_config(
        sources,
        as_type=as_type,
        strict=strict,
        user_schemas=schemas,
        filters=filters,
        follow=follow,
        max_value_size=max_value_size,
        engine=engine,
        scheduler=scheduler,
    )
    streams = console.streams()
    view = render.View.of(
        "json" if fmt is TextOrJson.json else "table" if table else "panels",
        raw=raw,
        color=streams.color,
        streaming=follow or "-" in sources,
        width=console.width(streams),
        several=table and several_sources(sources),
    )
    run = start_run(config, view.project)
    render.write(run, streams, view)
    if fmt is TextOrJson.text and filters.active:
        streams.note(render.filtered_line(run.tally.filtered))
    nothing = not follow and report_empty(run.tally, paths, streams, allow_empty)
    return ExitStatus.of(bool(run.tally.unreadable) or nothing)
