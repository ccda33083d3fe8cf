"""`vevents validate`: every event against the bundled JSON Schemas, as text, JSON, JUnit or GitHub."""

from __future__ import annotations

import enum
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


class ReportFormat(enum.StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"


class Expect(enum.StrEnum):
    valid = "valid"
    invalid = "invalid"


@filtered
def validate(
    paths: Paths = None,
    as_type: AsType = None,
    strict: Strict = False,
    schemas: UserSchemas = None,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="text, json, junit or github.")] = (ReportFormat.text),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line (text format).")] = False,
    only_invalid: Annotated[
        bool, typer.Option("--only-invalid", help="With --format json: leave valid events out of `events`.")
    ] = False,
    expect: Annotated[
        Expect,
        typer.Option(
            "--expect",
            help="The verdict every event should have; invalid: for broken fixtures (every "
            "format then reports the events that are valid, and unreadable input passes).",
        ),
    ] = Expect.valid,
    allow_empty: AllowEmpty = False,
    engine: EngineOption = Engine.local,
    scheduler: Scheduler = None,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Validate events against the bundled JSON Schemas (exit 1 if any is invalid, or none is found).

    Examples:

      vevents validate fixtures/

      vevents validate --strict payload.json

      vevents validate fixtures/ --format github

      vevents validate broken-fixtures/ --expect invalid --format junit

      vevents validate "$FIXTURES" --allow-empty

      vevents validate webhooks.ndjson --type 'voucher.*' --since 2h

      vevents validate fixtures/ --format json --only-invalid

      vevents validate fixtures/ -q

      vevents validate s3://bucket/webhooks/*.ndjson.gz --engine dask --scheduler tcp://10.0.0.5:8786 --format json
    """
    from vevents_cli.model import passed
    from vevents_cli.output.validate import REPORTERS, Options

    sources = inputs(paths, allow_empty)
    config = run_config(
        sources,
        as_type=as_type,
        strict=strict,
        user_schemas=schemas,
        filters=filters,
        facts=False,
        max_value_size=max_value_size,
        engine=engine,
        scheduler=scheduler,
    )
    reporter = REPORTERS["quiet" if quiet and fmt is ReportFormat.text else fmt.value]
    options = Options(only_invalid=only_invalid, expect=expect.value, allow_empty=allow_empty)
    streams = console.streams()
    deferred = fmt is ReportFormat.junit or (quiet and fmt is ReportFormat.text)  # JSON is written as it goes
    with console.progress(sources, streams, deferred) as progress:
        run = start_run(config, reporter.projection(options), progress)
        reporter.write(run, streams, options)
    report_empty(run.tally, paths, streams, allow_empty)
    return ExitStatus.of(not passed(run.tally, options))
