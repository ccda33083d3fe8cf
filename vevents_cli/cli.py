"""Command line: parse options, wire the stages, choose a renderer, set the exit code.

Exit codes: 0 all good; 1 something invalid or unreadable; 2 usage error. Modules that
are slow to import (rich, the renderers, the receiver) are imported by the commands that
use them, so `vevents validate one.json` starts fast.
"""

from __future__ import annotations

import enum
import functools
import inspect
import signal
import sys
import time
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vevents_cli import __version__, parallel, pipeline
from vevents_cli.filters import Filters
from vevents_cli.records import Locator, Unreadable
from vevents_cli.validation import SchemaProblem, SchemaSet

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="vevents",
    help="Inspect, validate and summarise Voucherify webhook and event payloads.\n\n"
    "Example: vevents sample voucher.published | vevents show",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


class ShowFormat(enum.StrEnum):
    text = "text"
    json = "json"


class ReportFormat(enum.StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"


class Expect(enum.StrEnum):
    valid = "valid"
    invalid = "invalid"


class Dialect(enum.StrEnum):
    v2024 = "v2024"
    distribution = "distribution"
    legacy = "legacy"
    bare = "bare"


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
Secret = Annotated[
    str | None,
    typer.Option("--secret", metavar="S", show_default=False,
                 help="Webhook secret. Prefer --secret-file or $VOUCHERIFY_WEBHOOK_SECRET: command lines are "
                      "visible to other users."),
]
SecretFile = Annotated[
    Path | None,
    typer.Option("--secret-file", metavar="FILE", exists=True, dir_okay=False,
                 help="Read the webhook secret from FILE (surrounding whitespace ignored)."),
]


# --- wiring helpers ------------------------------------------------------------------------------


def _stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _stderr() -> Console:
    from rich.console import Console

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


def _filters(types: list[str] | None, customer: str | None, voucher: str | None, campaign: str | None,
             since: str | None, until: str | None, invalid: bool) -> Filters:
    try:
        return Filters.from_options(types, customer, voucher, campaign, since, until, invalid)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


NO_FILTERS = Filters()


def _filter(kind: Any, flag: str, metavar: str | None, keeps: str) -> Any:
    """One filter option, shown under "Filters" in --help."""
    return Annotated[kind, typer.Option(flag, metavar=metavar, rich_help_panel="Filters", help=f"Only events {keeps}.")]


_MOMENT = "TIME: ISO 8601, or 30m, 2h, 3d, 1w ago"
_FILTER_OPTIONS = {
    "types": _filter(list[str] | None, "--type", "GLOB",
                     "whose type or custom name matches GLOB (fnmatch; repeatable)"),
    "customer": _filter(str | None, "--customer", "X", "about this customer (id, source_id or email)"),
    "voucher": _filter(str | None, "--voucher", "CODE", "about this voucher (code or id)"),
    "campaign": _filter(str | None, "--campaign", "X", "of this campaign (id or name)"),
    "since": _filter(str | None, "--since", "TIME", f"created at or after {_MOMENT}"),
    "until": _filter(str | None, "--until", "TIME", f"created at or before {_MOMENT}"),
    "invalid": _filter(bool, "--invalid", None, "that fail validation"),
}


def filtered(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the filter options (--type, --customer, ...); it receives `filters: Filters`."""
    signature = inspect.signature(command)
    options = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False if name == "invalid" else None,
                          annotation=annotation)
        for name, annotation in _FILTER_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in _FILTER_OPTIONS}
        command(*args, filters=_filters(**given), **kwargs)

    hints = typing.get_type_hints(command, include_extras=True)  # this module's annotations are strings
    own = [p.replace(annotation=hints[p.name]) for p in signature.parameters.values() if p.name != "filters"]
    del wrapper.__wrapped__  # type: ignore[attr-defined]  # Typer must read the signature below
    wrapper.__signature__ = signature.replace(parameters=own + options)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + options}
    return wrapper


def _options(as_type: str | None, strict: bool, user_dir: Path | None, filters: Filters,
             tally: pipeline.Tally, facts: bool = True) -> dict[str, object]:
    """The keyword arguments of `pipeline.run` for one command line (`facts`: summaries needed)."""
    if as_type is not None:
        from vevents_cli import catalogue

        if catalogue.lookup(as_type) is None:
            raise typer.BadParameter(f"unknown event type {as_type!r} (see: vevents types)", param_hint="--as")
    try:
        schemas = SchemaSet(strict, user_dir)
    except SchemaProblem as exc:
        raise typer.BadParameter(str(exc), param_hint="--schemas") from exc
    return {"as_type": as_type, "schemas": schemas, "tally": tally,
            "keep": filters.matches if filters.active else None, "facts": facts}


def _report(item: Unreadable, err: Console) -> None:
    from vevents_cli import renderers

    renderers.report_unreadable(item, err)


def _report_filtered(tally: pipeline.Tally, filters: Filters) -> None:
    if filters.active:
        n = tally.filtered
        _stderr().print(f"{n} event{'' if n == 1 else 's'} filtered out", style="dim", soft_wrap=True)


def _finish(tally: pipeline.Tally) -> None:
    raise typer.Exit(1 if tally.failed else 0)


def _progressing(
    inputs: list[str], deferred: bool, make: Callable[[Callable[..., None] | None], Iterator[pipeline.Item]]
) -> Iterator[pipeline.Item]:
    """`make(hook)`'s items, with a progress bar on stderr while they are read.

    Only when stderr is a terminal, inputs are files, and stdout is not the same
    terminal printing as it goes (`deferred`: the command prints only at the end).
    """
    terminal = sys.stderr is not None and sys.stderr.isatty()
    if not terminal or "-" in inputs or not (deferred or not sys.stdout.isatty()):
        yield from make(None)
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    meter = pipeline.ByteMeter(inputs)
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[events]} events"), TimeElapsedColumn())
    with Progress(*columns, console=_stderr(), transient=True, redirect_stdout=False) as bar:
        task = bar.add_task("reading", total=meter.total or None, events=0)
        last = 0.0

        def hook(record: object) -> None:
            nonlocal last
            meter(record)  # type: ignore[arg-type]
            now = time.monotonic()
            if now - last >= 0.1:
                last = now
                bar.update(task, completed=meter.done, events=meter.records)

        yield from make(hook)


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
@filtered
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
    follow: Annotated[
        Path | None,
        typer.Option("--follow", "-f", metavar="FILE", exists=True, dir_okay=False,
                     help="Keep reading FILE as it grows, like tail -f (survives truncation and rotation)."),
    ] = None,
    filters: Filters = NO_FILTERS,
) -> None:
    """Show what matters in each event: customer, voucher, points, campaign, order.

    Examples:

      vevents show samples/

      pbpaste | vevents show --raw

      vevents show webhooks.ndjson.gz --table

      vevents show log.ndjson --format json | jq .points

      vevents show --follow webhooks.ndjson --table --type 'customer.*'
    """
    from vevents_cli import renderers

    tally = pipeline.Tally()
    options = _options(as_type, strict, schemas, filters, tally)
    if follow is not None and paths:
        raise typer.BadParameter("give PATHS or --follow FILE, not both", param_hint="--follow")
    inputs = [str(follow)] if follow is not None else _inputs(paths)
    streaming = follow is not None or "-" in inputs  # write each event as soon as it is read
    out, err = _stdout(), _stderr()

    def events(project: Callable[[pipeline.Item], Any]) -> Iterator[Any]:
        if follow is None:
            return parallel.run(inputs, project, **options)  # type: ignore[arg-type]
        from vevents_cli import follow as following
        from vevents_cli.records import read_lines

        return map(project, pipeline.process(read_lines(str(follow), following.lines(follow)), **options))  # type: ignore[arg-type]

    try:
        if fmt is ShowFormat.json or table:
            project = renderers.json_line if fmt is ShowFormat.json else functools.partial(
                renderers.table_line, color=out.color_system is not None)
            lines = renderers.Lines(sys.stdout.buffer, batch=1 if streaming else 512)
            if fmt is ShowFormat.text:
                lines.text(renderers.plain_line(renderers.table_header_cells(), out.color_system is not None))
            try:
                for line in events(project):
                    if isinstance(line, Unreadable):
                        lines.flush()
                        renderers.report_unreadable(line, err)
                    else:
                        lines.add(line)
            finally:
                lines.flush()
        else:
            for item in events(lambda item: item):
                if isinstance(item, Unreadable):
                    renderers.report_unreadable(item, err)
                else:
                    out.print(renderers.panel(item, raw))
    except KeyboardInterrupt:
        if follow is None:
            raise
    if fmt is ShowFormat.text:
        _report_filtered(tally, filters)
    _finish(tally)


# --- validate -------------------------------------------------------------------------------


@app.command()
@filtered
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
    filters: Filters = NO_FILTERS,
) -> None:
    """Validate events against the bundled JSON Schemas (exit 1 if any is invalid).

    Examples:

      vevents validate fixtures/

      vevents validate --strict payload.json

      vevents validate fixtures/ --format github

      vevents validate broken-fixtures/ --expect invalid

      vevents validate webhooks.ndjson --type 'voucher.*' --since 2h
    """
    from vevents_cli import reports

    inputs = _inputs(paths)
    tally = pipeline.Tally()
    options = _options(as_type, strict, schemas, filters, tally, facts=False)
    deferred = fmt in (ReportFormat.json, ReportFormat.junit) or (quiet and fmt is ReportFormat.text)
    out = sys.stdout.buffer
    if fmt in (ReportFormat.json, ReportFormat.junit):  # one document, built from every summary
        items = _progressing(inputs, deferred, lambda hook: pipeline.run(inputs, on_record=hook, **options))
        if fmt is ReportFormat.json:
            out.write(reports.json_document(items, tally, only_invalid))
        else:
            out.write(reports.junit_document(items, tally))
    else:
        project = reports.github if fmt is ReportFormat.github else reports.quiet if quiet else reports.text
        err = None
        for result in _progressing(inputs, deferred, lambda hook: parallel.run(inputs, project, on_record=hook,
                                                                               **options)):
            if isinstance(result, Unreadable):
                _report(result, err := err or _stderr())
            elif result:
                lines, note = result
                reports.write_lines(out, lines)
                if note:
                    (err := err or _stderr()).print(note, style="dim", soft_wrap=True)
        reports.write_lines(out, [reports.summary_line(tally)])
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
    from vevents_cli import describe, renderers

    rows = describe.catalogue_rows()
    if fmt is ShowFormat.json:
        lines = renderers.Lines(sys.stdout.buffer)
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
    import orjson

    from vevents_cli import catalogue
    from vevents_cli import samples as bundled

    entry = catalogue.lookup(event_type)
    if entry is None or not bundled.sample_path(entry.name).is_file():
        raise typer.BadParameter(f"no sample for {event_type!r} (see: vevents types)", param_hint="TYPE")
    payload = bundled.sample(entry.name, dialect.value)
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
    from vevents_cli import catalogue, resources

    level = resources.schemas_dir() / ("strict" if strict else "default")
    entry = catalogue.lookup(event_type)
    path = level / "data" / f"{entry.name}.json" if entry else level / f"{event_type}.json"
    if not path.is_file() or not path.resolve().is_relative_to(level.resolve()):
        raise typer.BadParameter(f"no bundled schema for {event_type!r}", param_hint="TYPE")
    sys.stdout.buffer.write(path.read_bytes())


# --- logs: stats, split, redact -------------------------------------------------------------------


@app.command()
@filtered
def stats(
    paths: Paths = None,
    as_type: AsType = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text (tables) or json (one document).")] = (
        ShowFormat.text
    ),
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="Rows per table.")] = 10,
    every: Annotated[bool, typer.Option("--all", help="Every row, not only the top N.")] = False,
    strict: Strict = False,
    schemas: UserSchemas = None,
    filters: Filters = NO_FILTERS,
) -> None:
    """Aggregate a log: events by type, customers, campaigns, redemptions, retries, order.

    Examples:

      vevents stats webhooks.ndjson.gz

      vevents stats logs/ --since 1d --top 20

      vevents stats webhooks.ndjson --format json | jq .duplicates
    """
    from vevents_cli import stats as aggregate
    from vevents_cli import stats_render

    inputs = _inputs(paths)
    tally = pipeline.Tally()
    options = _options(as_type, strict, schemas, filters, tally)
    result, err = aggregate.Stats(), None
    events = _progressing(inputs, True, lambda hook: parallel.run(inputs, aggregate.rows, on_record=hook,
                                                                  **options))
    for item in events:
        if isinstance(item, Unreadable):
            _report(item, err := err or _stderr())
        result.add(item)
    document = result.document(tally, None if every else top)
    if fmt is ShowFormat.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        stats_render.render(document, _stdout())
        _report_filtered(tally, filters)
    raise typer.Exit(1 if tally.unreadable else 0)


@app.command()
@filtered
def split(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="DIR", file_okay=False, help="Folder to write the fixtures in."),
    ],
    paths: Paths = None,
    bare: Annotated[bool, typer.Option("--bare", help="Write only each event's data object.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
    as_type: AsType = None,
    filters: Filters = NO_FILTERS,
) -> None:
    """Turn a log into fixtures: one pretty JSON file per event, at DIR/<type>/<created_at>-<id>.json.

    Examples:

      vevents split webhooks.ndjson --out fixtures/

      vevents split webhooks.ndjson --out fixtures/ --type 'customer.*' --bare
    """
    from vevents_cli.split import Exists, Splitter

    inputs = _inputs(paths)
    tally = pipeline.Tally()
    options = _options(as_type, False, None, filters, tally, facts=False)
    splitter, err = Splitter(out, bare=bare, force=force), _stderr()
    failed = 0
    for item in _progressing(inputs, True, lambda hook: pipeline.run(inputs, on_record=hook, **options)):
        if isinstance(item, Unreadable):
            _report(item, err)
            continue
        try:
            splitter.write(item)
        except (Exists, OSError) as exc:
            failed += 1
            reason = str(exc) if isinstance(exc, Exists) else f"cannot write: {exc.strerror or exc}"
            _report(Unreadable(item.event.locator, reason), err)
    written = len(splitter.written)
    err.print(f"{written} file{'' if written == 1 else 's'} written to {out}", style="dim", soft_wrap=True)
    _report_filtered(tally, filters)
    raise typer.Exit(1 if tally.unreadable or failed else 0)


def _refuse_inputs(out: Path, inputs: list[str]) -> None:
    """Usage error if writing `out` would overwrite (or add to) the input."""
    from vevents_cli.sources import Source, expand, is_event_file

    target = out.resolve()
    for source in expand(inputs):
        if isinstance(source, Source) and source.path is not None and source.path.resolve() == target:
            raise typer.BadParameter(f"{out} is one of the input files; redact never modifies its input",
                                     param_hint="--out")
    for arg in inputs:
        folder = Path(arg)
        inside = arg != "-" and folder.is_dir() and target.is_relative_to(folder.resolve())
        if inside and is_event_file(target):
            raise typer.BadParameter(f"{out} is inside the input folder {arg}; it would be read as input",
                                     param_hint="--out")


@app.command()
@filtered
def redact(
    paths: Paths = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", dir_okay=False, help="Write NDJSON here (else to stdout)."),
    ] = None,
    salt: Annotated[
        str | None,
        typer.Option("--salt", metavar="S", help="Secret for the pseudonyms: the same salt gives the same "
                     "pseudonyms across runs (default: a new random salt each run)."),
    ] = None,
    metadata: Annotated[bool, typer.Option("--metadata", help="Also replace free-text metadata values.")] = False,
    as_type: AsType = None,
    filters: Filters = NO_FILTERS,
) -> None:
    """Write events (NDJSON) with names, emails, phones, addresses, birthdates pseudonymised.

    Ids, codes, amounts, points and types are kept, so the output still tells the story.

    Examples:

      vevents redact webhooks.ndjson --out shareable.ndjson --salt "$SALT"

      vevents redact webhooks.ndjson --metadata | vevents show --table
    """
    import secrets

    from vevents_cli import renderers
    from vevents_cli.redact import Redactor

    inputs = _inputs(paths)
    if out is not None:
        _refuse_inputs(out, inputs)
    tally = pipeline.Tally()
    items = pipeline.run(inputs, **_options(as_type, False, None, filters, tally, facts=False))  # type: ignore[arg-type]
    redactor = Redactor(salt if salt is not None else secrets.token_hex(16), metadata=metadata)
    err = _stderr()
    try:
        stream = out.open("wb") if out is not None else sys.stdout.buffer
    except OSError as exc:
        _report(Unreadable(Locator(str(out), 0), f"cannot write: {exc.strerror or exc}"), err)
        raise typer.Exit(1) from None
    lines = renderers.Lines(stream, batch=1 if out is None and "-" in inputs else 512)
    try:
        for item in items:
            if isinstance(item, Unreadable):
                renderers.report_unreadable(item, err)
            else:
                lines.write(redactor.payload(item.event.payload))
    finally:
        lines.flush()
        if out is not None:
            stream.close()
    if out is not None:
        n = tally.events
        err.print(f"{n} event{'' if n == 1 else 's'} redacted to {out}", style="dim", soft_wrap=True)
    _report_filtered(tally, filters)
    raise typer.Exit(1 if tally.unreadable else 0)


# --- signatures and the local receiver: verify, listen ---------------------------------------------


def _secret(secret: str | None, secret_file: Path | None, required: bool) -> str | None:
    """--secret, else --secret-file, else $VOUCHERIFY_WEBHOOK_SECRET. Never echoed anywhere."""
    import os

    from vevents_cli.signatures import SECRET_ENV

    if secret is None and secret_file is not None:
        try:
            secret = secret_file.read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read the secret file: {exc}", param_hint="--secret-file") from None
    if secret is None:
        secret = os.environ.get(SECRET_ENV)
    if not secret and required:
        raise typer.BadParameter(
            f"no webhook secret: give --secret-file FILE, set {SECRET_ENV}, or --secret S", param_hint="--secret"
        )
    return secret or None


@app.command()
def verify(
    paths: Paths = None,
    secret: Secret = None,
    secret_file: SecretFile = None,
    signature: Annotated[
        str | None,
        typer.Option("--signature", metavar="HEX",
                     help="The x-voucherify-signature to check (else taken from the input's headers)."),
    ] = None,
) -> None:
    """Check webhook signatures: HMAC-SHA256 of the body as received, or of its compact form.

    Input: payload files (the file is the body), captured HTTP requests, or a
    `vevents listen --save` file. Exit 0 when every event matches.

    Examples:

      vevents verify payload.json --signature 3f1c…  (secret in $VOUCHERIFY_WEBHOOK_SECRET)

      vevents verify request.http --secret-file ~/.voucherify-secret

      vevents verify deliveries.ndjson
    """
    from rich.text import Text

    from vevents_cli import captures, signatures
    from vevents_cli.events import recognise

    key = _secret(secret, secret_file, required=True)
    assert key is not None
    out, err = _stdout(), _stderr()
    checked = failed = 0
    for item in captures.signed_inputs(_inputs(paths)):
        if isinstance(item, Unreadable):
            failed += 1
            _report(item, err)
            continue
        record = item.record
        event = recognise(record)
        label = f"{record.locator}  {event.type or event.name or 'type unknown'}  "
        given = signature or (record.headers or {}).get(signatures.SIGNATURE_HEADER)
        if not given:
            failed += 1
            problem = (f"vevents: {label}no signature: give --signature HEX (or verify a captured request "
                       "or a listen --save file, which carry their headers)")
            err.print(Text(problem), style="red", soft_wrap=True)
            continue
        checked += 1
        match = signatures.verify(item.bodies[0], key, given, alternatives=item.bodies[1:])
        line = Text(label)
        if match.matched:
            line.append(f"MATCH ({match.form})", style="green")
        else:
            failed += 1
            line.append("MISMATCH", style="bold red")
            line.append(" — likely: " + "; ".join(signatures.likely_causes(item.bodies[0], given)))
        out.print(line, soft_wrap=True)
    raise typer.Exit(1 if failed or not checked else 0)


@app.command()
def listen(
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback unless you mean it).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8787,
    path: Annotated[str, typer.Option("--path", help="URL path deliveries are POSTed to.")] = "/",
    secret: Secret = None,
    secret_file: SecretFile = None,
    require_signature: Annotated[
        bool, typer.Option("--require-signature",
                           help="Answer 401 to a delivery whose signature is missing or does not match.")
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option("--save", metavar="FILE.ndjson", dir_okay=False,
                     help="Append each delivery (headers, body as received, event) as one NDJSON line."),
    ] = None,
    forward: Annotated[
        str | None, typer.Option("--forward", metavar="URL", help="Pass each accepted delivery on to URL.")
    ] = None,
    max_body: Annotated[
        int, typer.Option("--max-body", metavar="BYTES", min=1, help="Larger bodies are answered 413.")
    ] = 1024 * 1024,
) -> None:
    """Receive webhook deliveries locally: print them, check signatures, save, forward.

    Answers 200 at once; 401 (--require-signature, bad or no signature), 400 (body not
    JSON, still saved), 404 (other path), 405 (not POST), 413 (over --max-body).
    Ctrl-C stops it.

    Examples:

      VOUCHERIFY_WEBHOOK_SECRET=… vevents listen --save deliveries.ndjson

      vevents listen --port 9000 --forward http://localhost:3000/webhooks
    """
    from urllib.parse import urlsplit

    from vevents_cli import receiver as rx

    key = _secret(secret, secret_file, required=require_signature)
    if not path.startswith("/"):
        raise typer.BadParameter("must start with /", param_hint="--path")
    target = urlsplit(forward) if forward is not None else None
    if target is not None and (target.scheme not in ("http", "https") or not target.netloc):
        raise typer.BadParameter("must be an http:// or https:// URL", param_hint="--forward")
    config = rx.Config(host=host, port=port, path=path, secret=key, require_signature=require_signature,
                       save=save, forward=forward, max_body=max_body)
    out, err = _stdout(), _stderr()
    # main() makes SIGPIPE fatal (quiet `| head`); a client hanging up mid-answer must not be.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        server = rx.Receiver(config, echo=lambda line: out.print(line, soft_wrap=True))
    except OSError as exc:
        raise typer.BadParameter(f"cannot open: {exc.strerror or exc}", param_hint="--save") from None
    try:
        bound_host, bound_port = server.start()
    except OSError as exc:
        err.print(f"vevents: cannot listen on {host}:{port}: {exc.strerror or exc}", style="red", markup=False)
        raise typer.Exit(1) from None
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    if not rx.is_loopback(host):
        err.print(f"warning: listening on {host}, reachable from other machines", style="yellow")
    checks = "required" if require_signature else "checked" if key else "not checked (no secret)"
    err.print(f"listening on http://{shown}:{bound_port}{path} · signatures {checks}"
              + (f" · saving to {save}" if save else "") + (f" · forwarding to {forward}" if forward else "")
              + " · Ctrl-C to stop", highlight=False, markup=False, soft_wrap=True)
    out.print(rx.header_line(), soft_wrap=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        err.print("stopping…", style="dim")
    finally:
        server.stop()
    err.print(server.summary_line(), highlight=False)


# --- entry point ----------------------------------------------------------------------------


def main() -> None:
    """Console script: quiet on a closed pipe (`| head`) and on Ctrl-C."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app(prog_name="vevents")
    except KeyboardInterrupt:
        sys.exit(130)
