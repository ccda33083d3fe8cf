"""Command line: parse options, wire the stages, choose a renderer, set the exit code.

Exit codes: 0 all good; 1 something invalid or unreadable; 2 usage error.
"""

from __future__ import annotations

import enum
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from vevents_cli import __version__, catalogue, pipeline, renderers, reports, resources
from vevents_cli import samples as bundled
from vevents_cli.events import DIALECTS
from vevents_cli.records import Unreadable
from vevents_cli.validation import SchemaSet

app = typer.Typer(
    name="vevents",
    help="Inspect, validate and summarise Voucherify webhook and event payloads.\n\n"
    "Example: vevents sample voucher.published | vevents show",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


class ShowFormat(str, enum.Enum):
    text = "text"
    json = "json"


class ReportFormat(str, enum.Enum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"


class Expect(str, enum.Enum):
    valid = "valid"
    invalid = "invalid"


class Dialect(str, enum.Enum):
    v2024 = "v2024"
    distribution = "distribution"
    legacy = "legacy"
    bare = "bare"


assert tuple(d.value for d in Dialect) == DIALECTS

# --- options shared by the commands that read events -------------------------------------------

Paths = Annotated[
    list[str] | None,
    typer.Argument(help="Files, folders (recursed for *.json, *.jsonl, *.ndjson, and .gz) or - for stdin.",
                   show_default=False),
]
AsType = Annotated[
    str | None,
    typer.Option("--as", metavar="TYPE", help="Event type of bare `data` payloads (else inferred from shape)."),
]
Strict = Annotated[bool, typer.Option("--strict", help="Validate against the vendor spec literally.")]
UserSchemas = Annotated[
    Path | None,
    typer.Option("--schemas", metavar="DIR", help="Your own schemas (<type>.json) that extend or override ours.",
                 exists=True, file_okay=False),
]


def _stdout() -> Console:
    return Console(highlight=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _inputs(paths: list[str] | None) -> list[str]:
    """PATH arguments, or stdin when piped; a terminal with no input is a usage error."""
    if paths:
        return paths
    if sys.stdin is None or sys.stdin.isatty():
        raise typer.BadParameter(
            "no input: give a PATH, or pipe JSON in (e.g. vevents sample voucher.published | vevents show)",
            param_hint="PATHS",
        )
    return ["-"]


def _check_type(as_type: str | None) -> str | None:
    if as_type is not None and catalogue.lookup(as_type) is None:
        raise typer.BadParameter(f"unknown event type {as_type!r} (see: vevents types)", param_hint="--as")
    return as_type


def _finish(tally: pipeline.Tally) -> None:
    raise typer.Exit(1 if tally.failed else 0)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vevents {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    """Inspect, validate and summarise Voucherify webhook and event payloads."""


# --- show -----------------------------------------------------------------------------------


@app.command()
def show(
    paths: Paths = None,
    as_type: AsType = None,
    table: Annotated[bool, typer.Option("--table", help="One line per event (for logs).")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Also print the payload (and HTTP headers).")] = False,
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text (panels/table) or json (NDJSON).")] = (
        ShowFormat.text
    ),
    strict: Strict = False,
    schemas: UserSchemas = None,
) -> None:
    """Show what matters in each event: customer, voucher, points, campaign, order.

    Examples:

      vevents show samples/

      pbpaste | vevents show --raw

      vevents show webhooks.ndjson.gz --table

      vevents show log.ndjson --format json | jq .points
    """
    inputs = _inputs(paths)
    tally = pipeline.Tally()
    items = pipeline.run(inputs, as_type=_check_type(as_type), schemas=SchemaSet(strict, schemas), tally=tally)
    out, err = _stdout(), _stderr()
    if fmt is ShowFormat.json:
        lines = renderers.JsonLines(sys.stdout.buffer)
        for item in items:
            if isinstance(item, Unreadable):
                lines.flush()
                renderers.report_unreadable(item, err)
            else:
                lines.write(renderers.summary_dict(item))
        lines.flush()
    else:
        if table:
            out.print(renderers.table_header(), soft_wrap=True)
        for item in items:
            if isinstance(item, Unreadable):
                renderers.report_unreadable(item, err)
            elif table:
                out.print(renderers.table_row(item), soft_wrap=True)
            else:
                out.print(renderers.panel(item, raw))
    _finish(tally)


# --- validate -------------------------------------------------------------------------------


@app.command()
def validate(
    paths: Paths = None,
    as_type: AsType = None,
    strict: Strict = False,
    schemas: UserSchemas = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="text, json, junit or github.")] = (
        ReportFormat.text
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line.")] = False,
    only_invalid: Annotated[
        bool, typer.Option("--only-invalid", help="JSON: leave valid events out of `events`.")
    ] = False,
    expect: Annotated[
        Expect,
        typer.Option("--expect", help="invalid: exit 0 only if every event is invalid (broken fixtures)."),
    ] = Expect.valid,
) -> None:
    """Validate events against the bundled JSON Schemas (exit 1 if any is invalid).

    Examples:

      vevents validate fixtures/

      vevents validate --strict payload.json

      vevents validate fixtures/ --format github

      vevents validate broken-fixtures/ --expect invalid
    """
    inputs = _inputs(paths)
    tally = pipeline.Tally()
    items = pipeline.run(inputs, as_type=_check_type(as_type), schemas=SchemaSet(strict, schemas), tally=tally)
    out = sys.stdout.buffer
    if fmt is ReportFormat.json:
        out.write(reports.json_document(items, tally, only_invalid))
    elif fmt is ReportFormat.junit:
        out.write(reports.junit_document(items, tally))
    else:
        err = _stderr()
        for item in items:
            if fmt is ReportFormat.github:
                for line in reports.github_lines(item):
                    reports.write(out, line)
            elif isinstance(item, Unreadable):
                if not quiet:
                    renderers.report_unreadable(item, err)
            elif not quiet:
                for line in reports.text_lines(item):
                    reports.write(out, line)
                note = reports.note_line(item)
                if note:
                    err.print(note, style="dim", soft_wrap=True)
        reports.write(out, reports.summary_line(tally))
    out.flush()
    if expect is Expect.invalid:
        raise typer.Exit(0 if tally.events and tally.valid == 0 else 1)
    _finish(tally)


# --- discovery: types, sample, schema ---------------------------------------------------------


@app.command()
def types(
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text or json.")] = ShowFormat.text,
) -> None:
    """List the event types vevents knows: family, dialects, facts it summarises.

    Example:

      vevents types | grep loyalty
    """
    from vevents_cli import describe

    rows = describe.catalogue_rows()
    if fmt is ShowFormat.json:
        lines = renderers.JsonLines(sys.stdout.buffer)
        for row in rows:
            lines.write(row)
        lines.flush()
        return
    _stdout().print(describe.catalogue_table(rows))


@app.command()
def sample(
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="An event type (see: vevents types).")],
    dialect: Annotated[Dialect, typer.Option("--dialect", help="Envelope to wrap it in.")] = Dialect.v2024,
) -> None:
    """Print a bundled sample payload of TYPE.

    Examples:

      vevents sample voucher.published | vevents show

      vevents sample customer.rewarded --dialect legacy > fixture.json
    """
    entry = catalogue.lookup(event_type)
    if entry is None or not bundled.sample_path(entry.name).is_file():
        raise typer.BadParameter(f"no sample for {event_type!r} (see: vevents types)", param_hint="TYPE")
    payload = bundled.sample(entry.name, dialect.value)
    import orjson

    sys.stdout.buffer.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


@app.command()
def schema(
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="An event type, or envelope/v2024 etc.")],
    strict: Strict = False,
) -> None:
    """Print the bundled JSON Schema of TYPE's data (or an envelope).

    Examples:

      vevents schema voucher.published

      vevents schema envelope/legacy --strict
    """
    level = resources.schemas_dir() / ("strict" if strict else "default")
    entry = catalogue.lookup(event_type)
    path = level / "data" / f"{entry.name}.json" if entry else level / f"{event_type}.json"
    if not path.is_file() or not path.resolve().is_relative_to(level.resolve()):
        raise typer.BadParameter(f"no bundled schema for {event_type!r}", param_hint="TYPE")
    sys.stdout.buffer.write(path.read_bytes())


# --- entry point ----------------------------------------------------------------------------


def main() -> None:
    """Console script: quiet on a closed pipe (`| head`) and on Ctrl-C."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app(prog_name="vevents")
    except KeyboardInterrupt:
        sys.exit(130)

