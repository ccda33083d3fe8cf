"""What a command does with its options once they are read, without click or Typer: the inputs
(`inputs`), the checked `RunConfig` (`run_config`; a type name checked by `event_type`, an
unknown one told by `unknown_type`), the run (`start_run`), a run that found nothing
(`report_empty`), and the table of options that contradict each other (`CONTRADICTIONS`).

Shared by the Typer commands (through `options`, which declares the options and re-exports
these) and the fast path (`fast`), which runs `validate` without building the Typer app. A
check that fails raises Typer's usage error (Typer imported only then); the fast path makes
the checks `validate` would fail first, and leaves those runs to Typer (`fast`).
"""

from __future__ import annotations

import enum
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from vevents_cli.pipeline.config import MAX_VALUE_SIZE, RunConfig
from vevents_cli.pipeline.filters import Filters

if TYPE_CHECKING:
    from vevents_cli.model import Summary, Tally
    from vevents_cli.output.streams import Streams
    from vevents_cli.pipeline.runner import Progress, Run

T = TypeVar("T")
NO_FILTERS = Filters()


def _bad_parameter(message: str, param_hint: str | None = None) -> Exception:
    import typer

    return typer.BadParameter(message, param_hint=param_hint)


def type_names() -> list[str]:
    """Every event type name the catalogue knows (aliases too)."""
    from vevents_cli.voucherify import catalogue

    return sorted([*catalogue.CATALOGUE, *catalogue.ALIASES])


def unknown_type(
    name: str,
    hint: str,
    choices: list[str] | None = None,
    what: str = "unknown event type",
    see: str = "vevents types",
    documented: str | None = None,
) -> NoReturn:
    """A usage error for a type name that is not known, with a suggestion when one is close.
    `documented`: what to say of a type the catalogue knows that is not among `choices`
    (one documented without a schema), rather than suggesting another type."""
    from vevents_cli.output.text import did_you_mean, safe
    from vevents_cli.voucherify import catalogue

    entry = catalogue.lookup(name)
    if documented is not None and entry is not None:
        raise _bad_parameter(
            f"{safe(entry.name)} is documented without a schema{documented}; vevents types lists what each type has",
            param_hint=hint,
        )
    suggestion = did_you_mean(name, choices if choices is not None else type_names())
    raise _bad_parameter(f"{what} {name!r}{suggestion} (see: {see})", param_hint=hint)


class Engine(enum.StrEnum):
    """`--engine`: where a run's work is done."""

    local = "local"
    dask = "dask"


# --- contradictions: pairs of options that cannot both hold, one table for every command ---------


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two options of `commands` that contradict each other when `holds` (given the command's
    parameters and the names given on the command line); `why` says which wins nowhere."""

    commands: tuple[str, ...]
    first: Callable[[Mapping[str, Any]], str]  # each option as the user wrote it
    second: Callable[[Mapping[str, Any]], str]
    holds: Callable[[Mapping[str, Any], frozenset[str]], bool]
    why: str


def _format(params: Mapping[str, Any]) -> str:
    return f"--format {params['fmt']}"


CONTRADICTIONS = (
    Contradiction(
        ("show", "validate", "stats", "ledger"),
        lambda p: f"--scheduler {p['scheduler']}",
        lambda p: f"--engine {p['engine']}",
        lambda p, given: p["scheduler"] is not None and p["engine"] != "dask",
        "a scheduler is where --engine dask runs; the local engine has none",
    ),
    Contradiction(
        ("show",),
        lambda p: "--follow",
        lambda p: "--engine dask",
        lambda p, given: bool(p["follow"]) and p["engine"] == "dask",
        "a followed file is read here as it grows, line by line",
    ),
    Contradiction(
        ("show",),
        lambda p: "--table",
        _format,
        lambda p, given: bool(p["table"]) and p["fmt"] == "json",
        "a table is text; JSON is one object per event",
    ),
    Contradiction(
        ("show",),
        lambda p: "--table",
        _format,
        lambda p, given: bool(p["table"]) and p["fmt"] == "parquet",
        "a table is text; Parquet is typed columns",
    ),
    Contradiction(
        ("show",),
        lambda p: "--out",
        _format,
        lambda p, given: p["out"] is not None and p["fmt"] != "parquet",
        "-o is where --format parquet writes; text and JSON go to stdout, to redirect",
    ),
    Contradiction(
        ("show",),
        lambda p: "--follow",
        _format,
        lambda p, given: bool(p["follow"]) and p["fmt"] == "parquet",
        "a followed file never ends, and a Parquet file is written whole at the end",
    ),
    Contradiction(
        ("show",),
        lambda p: "--follow",
        lambda p: "--allow-empty",
        lambda p, given: bool(p["follow"]) and bool(p["allow_empty"]),
        "a followed file is never over, so never found empty",
    ),
    Contradiction(
        ("validate",),
        lambda p: "--only-invalid",
        _format,
        lambda p, given: bool(p["only_invalid"]) and p["fmt"] != "json",
        "--only-invalid leaves valid events out of --format json's `events`; text and github "
        "report only the failures already",
    ),
    Contradiction(
        ("validate",),
        lambda p: "--quiet",
        _format,
        lambda p, given: bool(p["quiet"]) and p["fmt"] != "text",
        "--quiet prints only the summary line of the text report; a machine format is whole",
    ),
    Contradiction(
        ("stats",),
        lambda p: "--all",
        lambda p: f"--top {p['top']}",
        lambda p, given: bool(p["every"]) and "top" in given,
        "--all shows every row, --top only the first N",
    ),
    Contradiction(
        ("verify", "listen"),
        lambda p: "--secret",
        lambda p: "--secret-file",
        lambda p, given: p["secret_value"] is not None and p["secret_file"] is not None,
        "give the secret once",
    ),
    Contradiction(
        ("schema",),
        lambda p: "--list",
        lambda p: "TYPE",
        lambda p, given: bool(p["listing"]) and p["event_type"] is not None,
        "--list prints the names, TYPE one schema",
    ),
)


def contradiction(command: str, params: Mapping[str, Any], given: frozenset[str]) -> Contradiction | None:
    """The first contradiction that holds for this command's parameters (`given`: the names given
    on the command line), if any."""
    return next((rule for rule in CONTRADICTIONS if command in rule.commands and rule.holds(params, given)), None)


def refuse_contradictions(command: str, params: Mapping[str, Any], given: frozenset[str]) -> None:
    """A usage error naming both options of the first contradiction that holds."""
    rule = contradiction(command, params, given)
    if rule is not None:
        import click

        raise click.UsageError(
            f"{rule.first(params)} and {rule.second(params)} contradict each other ({rule.why}): give one of them"
        )


def no_input(paths: list[str] | None) -> bool:
    """No PATH, and stdin a terminal (or closed): nothing to read, a usage error (`inputs`)."""
    return not paths and (sys.stdin is None or sys.stdin.isatty())


def inputs(paths: list[str] | None, allow_empty: bool | None = None) -> tuple[str, ...]:
    """PATH arguments, or stdin when piped; a terminal with no input is a usage error.

    `allow_empty` (commands that refuse a run that finds nothing): stdin with no data at
    all is left out, so the run finds nothing and says so (`report_empty`) -- or passes,
    with --allow-empty.
    """
    if no_input(paths):
        raise _bad_parameter(
            "no input: give a PATH, or pipe JSON in (e.g. vevents sample voucher.published | vevents show)",
            param_hint="PATHS",
        )
    given = tuple(paths) if paths else ("-",)
    if allow_empty is not None and "-" in given and _stdin_empty():
        return tuple(p for p in given if p != "-")
    return given


def _stdin_empty() -> bool:
    """Whether stdin is at its end already (looked at without using up any of it)."""
    stream = getattr(sys.stdin, "buffer", None)
    try:
        peek = getattr(stream, "peek", None)
        if peek is not None:
            head: bytes = peek(1)
            return head == b""
        if stream is not None and stream.seekable():
            at = stream.tell()
            first: bytes = stream.read(1)
            stream.seek(at)
            return first == b""
    except (OSError, ValueError):
        pass
    return False


def report_empty(tally: Tally, paths: list[str] | tuple[str, ...] | None, streams: Streams, allow_empty: bool) -> bool:
    """One line on stderr when a run found no event in its inputs (unless --allow-empty);
    True when that makes the run fail."""
    from vevents_cli.model import empty
    from vevents_cli.output.text import no_events_line

    if allow_empty or not empty(tally):
        return False
    streams.write_err(no_events_line(tuple(paths or ("-",)), tally.filtered), "red")
    return True


def event_type(name: str | None, hint: str) -> str | None:
    """A type name given on the command line, checked against the catalogue (None passes)."""
    if name is None:
        return None
    from vevents_cli.voucherify import catalogue

    entry = catalogue.lookup(name)
    if entry is None:
        unknown_type(name, hint)
    return entry.name


def run_config(
    paths: tuple[str, ...],
    *,
    as_type: str | None = None,
    strict: bool = False,
    user_schemas: Path | None = None,
    filters: Filters | None = None,
    facts: bool = True,
    validate: bool = True,
    follow: bool = False,
    max_value_size: int = MAX_VALUE_SIZE,
    exact_numbers: bool = False,
    engine: Engine = Engine.local,
    scheduler: str | None = None,
) -> RunConfig:
    return RunConfig(
        inputs=paths,
        follow=follow,
        as_type=event_type(as_type, "--as"),
        validate=validate,
        strict=strict,
        user_schemas=user_schemas,
        facts=facts,
        filters=filters or Filters(),
        max_value_size=max_value_size,
        exact_numbers=exact_numbers,
        engine=engine.value,
        scheduler=scheduler,
    )


@typing.overload
def start_run(
    config: RunConfig, project: None = None, progress: Progress | None = None, **more: Any
) -> Run[Summary]: ...


@typing.overload
def start_run(
    config: RunConfig, project: Callable[[Summary], T], progress: Progress | None = None, **more: Any
) -> Run[T]: ...


def start_run(
    config: RunConfig, project: Callable[[Summary], Any] | None = None, progress: Progress | None = None, **more: Any
) -> Run[Any]:
    """`pipeline.run`, with a `--schemas` folder that cannot be used turned into a usage error, and an
    engine that cannot run (`--engine dask` without Dask, a scheduler out of reach) into one line, exit 2."""
    from vevents_cli import pipeline

    try:
        if project is None:
            return pipeline.run(config, progress=progress, **more)
        return pipeline.run(config, project, progress=progress, **more)
    except pipeline.SchemaProblem as exc:
        raise _bad_parameter(str(exc), param_hint="--schemas") from exc
    except Exception as exc:
        if config.engine == "local":
            raise
        from vevents_cli.cli.status import ExitStatus
        from vevents_cli.output.text import safe
        from vevents_cli.pipeline.dask import Unavailable

        if not isinstance(exc, Unavailable):
            raise
        sys.stderr.write(f"vevents: {safe(str(exc))}\n")
        import typer

        raise typer.Exit(ExitStatus.USAGE) from None
