"""`vevents split`: a log turned into fixtures, one pretty JSON file per event."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import (
    NO_FILTERS,
    AsType,
    MaxValueSize,
    Paths,
    filtered,
    input_files,
    inputs,
    refuse_inputs,
    run_config,
    start_run,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.filters import Filters


@filtered
def split(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="DIR", file_okay=False, help="Folder to write the fixtures in."),
    ],
    paths: Paths = None,
    bare: Annotated[
        bool,
        typer.Option(
            "--bare", help="Write only each event's data object (validate DIR takes its type from its folder)."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that already exist (never an input file).")
    ] = False,
    as_type: AsType = None,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Turn a log into fixtures: one pretty JSON file per event, at DIR/<type>/<created_at>-<id>.json.

    Each file is written whole; a run that cannot finish (a full disk, Ctrl-C) removes the files it wrote.

    Examples:

      vevents split webhooks.ndjson --out fixtures/

      vevents split webhooks.ndjson --out bare-fixtures/ --type 'customer.*' --bare

      vevents validate bare-fixtures/   (a bare fixture's type: its folder's name)
    """
    from vevents_cli import split as splitting
    from vevents_cli.output import show
    from vevents_cli.output.text import name, safe

    sources = inputs(paths)
    refuse_inputs(out, sources, "split", folder=True)
    config = run_config(
        sources,
        as_type=as_type,
        filters=filters,
        validate=False,
        facts=False,
        exact_numbers=True,
        max_value_size=max_value_size,
    )
    streams = console.streams()
    writer = splitting.FixtureWriter(out, force=force, inputs=input_files(sources) if force else frozenset())
    with console.progress(sources, streams, deferred=True) as progress:
        run = start_run(config, functools.partial(splitting.piece, bare=bare), progress)
        splitting.write_all(run, writer, streams)
    written = len(writer.written)
    streams.note(f"{written} file{'' if written == 1 else 's'} written to {safe(name(str(out)))}")
    if filters.active:
        streams.note(show.filtered_line(run.tally.filtered))
    return ExitStatus.of(bool(run.tally.unreadable or writer.failed))
