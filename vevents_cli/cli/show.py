"""`vevents show`: what matters in each event, as panels, a table, NDJSON, or Parquet files."""

from __future__ import annotations

import enum
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    UserSchemas,
    filtered,
    followed,
    inputs,
    refuse_inputs,
    report_empty,
    run_config,
    several_sources,
    start_run,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.filters import Filters

if TYPE_CHECKING:
    from vevents_cli.output.streams import Streams
    from vevents_cli.pipeline.config import RunConfig

ARROW_EXTRA = "pip install 'vevents[arrow]'"


class ShowFormat(enum.StrEnum):
    """`show --format`: text (panels, table), json (NDJSON), parquet (files: `-o`)."""

    text = "text"
    json = "json"
    parquet = "parquet"


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
    fmt: Annotated[
        ShowFormat,
        typer.Option("--format", help="text (panels/table), json (NDJSON) or parquet (typed columns; needs -o)."),
    ] = ShowFormat.text,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE|DIR",
            help="With --format parquet: the file to write, or a folder (a trailing /) for part files "
            "of a million events each.",
        ),
    ] = None,
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

      vevents show logs/ --format parquet -o facts.parquet  # then: duckdb -c "FROM 'facts.parquet'"
    """
    from vevents_cli.output import show as render

    streams = console.streams()
    refusal = parquet_refusal(out) if fmt is ShowFormat.parquet else None
    if refusal is not None:
        streams.write_err(f"vevents: {refusal}", "red")
        return ExitStatus.USAGE
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
    if out is not None:
        return to_parquet(config, out, raw, streams, paths, allow_empty)
    view = render.View.of(
        "json" if fmt is ShowFormat.json else "table" if table else "panels",
        raw=raw,
        color=streams.color,
        streaming=follow or "-" in sources,
        width=console.width(streams),
        several=table and several_sources(sources),
    )
    run = start_run(config, view.project)
    render.write(run, streams, view)
    if fmt is ShowFormat.text and filters.active:
        streams.note(render.filtered_line(run.tally.filtered))
    nothing = not follow and report_empty(run.tally, paths, streams, allow_empty)
    return ExitStatus.of(bool(run.tally.unreadable) or nothing)


def parquet_refusal(out: str | None) -> str | None:
    """Why `--format parquet` cannot run (no -o: Parquet is for files, not a terminal or a pipe;
    no pyarrow: the `arrow` extra is not installed), else None."""
    if out is None:
        return "--format parquet writes files, not to a terminal or a pipe: give -o FILE (or -o DIR/)"
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: F401  (what the writer needs, loaded now)
    except ImportError:
        return f"--format parquet needs pyarrow: {ARROW_EXTRA}"
    return None


def to_parquet(
    config: RunConfig, given: str, raw: bool, streams: Streams, paths: list[str] | None, allow_empty: bool
) -> ExitStatus:
    """`show --format parquet -o FILE|DIR`: the facts as typed columns, the files in place at the end."""
    from vevents_cli.output import parquet
    from vevents_cli.output.show import filtered_line

    out, folder = Path(given), parquet.is_folder_target(given)
    refuse_inputs(out, config.inputs, "show", folder=folder)
    if folder and parquet.parts_in(out):
        raise typer.BadParameter(
            f"{out} already holds part files ({parquet.PART_GLOB}); a run never mixes its parts with another's: "
            "remove them or name another folder",
            param_hint="--out",
        )
    run = start_run(config, functools.partial(parquet.row, raw=raw))
    written = parquet.write(run, streams, out, raw, folder)
    streams.note(parquet.written_line(written, run.tally.events))
    if config.filters.active:
        streams.note(filtered_line(run.tally.filtered))
    nothing = report_empty(run.tally, paths, streams, allow_empty)
    return ExitStatus.of(bool(run.tally.unreadable) or nothing)
