"""What `vevents validate` does once its options are read: one function, `validate_run`, without
click or Typer, called by the Typer command (`validate`) and by the fast path (`fast`) alike, so
both build the same `RunConfig` and print the same report. Its keyword defaults are the Typer
options' defaults (a test holds them equal).
"""

from __future__ import annotations

import enum
from pathlib import Path

from vevents_cli.cli import console
from vevents_cli.cli.runs import NO_FILTERS, Engine, inputs, report_empty, run_config, start_run
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


CHOICES: dict[str, type[enum.StrEnum]] = {"fmt": ReportFormat, "expect": Expect}  # validate_run's choice parameters


def validate_run(
    paths: list[str] | None = None,
    *,
    as_type: str | None = None,
    strict: bool = False,
    schemas: Path | None = None,
    max_value_size: int = MAX_VALUE_SIZE,
    fmt: ReportFormat = ReportFormat.text,
    quiet: bool = False,
    only_invalid: bool = False,
    expect: Expect = Expect.valid,
    allow_empty: bool = False,
    engine: Engine = Engine.local,
    scheduler: str | None = None,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Validate every event of `paths` (stdin when none) and write the report; the run's status."""
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
