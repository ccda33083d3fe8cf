"""`vevents validate`: every event against the bundled JSON Schemas, as text, JSON, JUnit or GitHub.

This module is the command's Typer declaration (its options, help and examples); what it does is
`validating.validate_run`, which the fast path (`fast`) calls too.
"""

from __future__ import annotations

from typing import Annotated

import typer

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
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.cli.validating import Expect, ReportFormat, validate_run
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.filters import Filters


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
    return validate_run(
        paths,
        as_type=as_type,
        strict=strict,
        schemas=schemas,
        max_value_size=max_value_size,
        fmt=fmt,
        quiet=quiet,
        only_invalid=only_invalid,
        expect=expect,
        allow_empty=allow_empty,
        engine=engine,
        scheduler=scheduler,
        filters=filters,
    )
