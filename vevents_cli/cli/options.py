"""Options shared by the commands, and the `RunConfig` they become.

Every check of a command line happens here, before any input is read: `--as` names a
known type, `--since` is a time (not after `--until`), `--schemas` compiles, an output is
not an input, sizes read (`size`, for every size option), `--follow` names one plain
file. A failed check is a usage error (exit 2) naming the option; options that contradict
each other are one table, `CONTRADICTIONS`, checked for every command (`checked`) and
named both in the error.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import os
import re
import stat
import sys
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import click
import typer

from vevents_cli.cli.runs import CONTRADICTIONS as CONTRADICTIONS
from vevents_cli.cli.runs import NO_FILTERS as NO_FILTERS
from vevents_cli.cli.runs import Contradiction as Contradiction
from vevents_cli.cli.runs import Engine as Engine
from vevents_cli.cli.runs import event_type as event_type
from vevents_cli.cli.runs import inputs as inputs
from vevents_cli.cli.runs import refuse_contradictions
from vevents_cli.cli.runs import report_empty as report_empty
from vevents_cli.cli.runs import run_config as run_config
from vevents_cli.cli.runs import start_run as start_run
from vevents_cli.cli.runs import type_names as type_names
from vevents_cli.cli.runs import unknown_type as unknown_type
from vevents_cli.pipeline.filters import Filters
from vevents_cli.voucherify import dialects

if TYPE_CHECKING:
    pass

T = TypeVar("T")

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Files, folders (recursed for *.json, *.jsonl, *.ndjson, and .gz) or - for stdin.", show_default=False
    ),
]


def complete_type(incomplete: str) -> list[str]:
    """Shell completion of an event type (TYPE arguments, --as, --type)."""
    return [name for name in type_names() if name.startswith(incomplete)]


def complete_sample(incomplete: str) -> list[str]:
    """Shell completion of a type that has a bundled sample."""
    from vevents_cli.voucherify import catalogue

    return [name for name, entry in catalogue.CATALOGUE.items() if entry.has_schema and name.startswith(incomplete)]


def complete_schema(incomplete: str) -> list[str]:
    """Shell completion of a name `vevents schema` accepts."""
    from vevents_cli.output.schema import names

    return [name for name in names() if name.startswith(incomplete)]


AsType = Annotated[
    str | None,
    typer.Option(
        "--as",
        metavar="TYPE",
        help="Event type of bare `data` payloads (else their file or folder name if a known type, else their "
        "shape) and of `{type, data}` fixtures.",
        autocompletion=complete_type,
    ),
]
Strict = Annotated[bool, typer.Option("--strict", help="Validate against the vendor spec literally.")]
AllowEmpty = Annotated[
    bool,
    typer.Option("--allow-empty", help="Exit 0 when the PATHS (or stdin) hold no event at all (else exit 1)."),
]
UserSchemas = Annotated[
    Path | None,
    typer.Option(
        "--schemas",
        metavar="DIR",
        help="Your own schemas (<type>.json) that extend or override ours.",
        exists=True,
        file_okay=False,
    ),
]
Secret = Annotated[
    str | None,
    typer.Option(
        "--secret",
        metavar="S",
        show_default=False,
        help="Webhook secret. Prefer --secret-file or $VOUCHERIFY_WEBHOOK_SECRET: command lines are "
        "visible to other users.",
    ),
]
SecretFile = Annotated[
    Path | None,
    typer.Option(
        "--secret-file",
        metavar="FILE",
        exists=True,
        dir_okay=False,
        help="Read the webhook secret from FILE (surrounding whitespace ignored).",
    ),
]

_SIZE = re.compile(r"\s*([0-9]+)\s*(?:([KMG])(?:i?B)?|B)?\s*", re.IGNORECASE)
_SCALE = {None: 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size(text: str | int) -> int:
    """Every size option (`--max-value-size`, `listen --max-body`): bytes, or K, M, G (KiB, MiB,
    GiB; KB, MB, GB are read the same)."""
    if isinstance(text, int):
        return text
    m = _SIZE.fullmatch(text)
    size = int(m.group(1)) * _SCALE[m.group(2) and m.group(2).upper()] if m else 0
    if size <= 0:
        raise typer.BadParameter(f"{text!r} is not a size: give bytes, or a number with K, M or G (64M, 1G)")
    return size


MaxValueSize = Annotated[
    int,
    typer.Option(
        "--max-value-size",
        metavar="SIZE",
        parser=size,
        show_default="64M",
        help="Skip any JSON value (or line) larger than SIZE: bytes, or with K, M, G (64M, 1G). "
        "Memory stays bounded by it.",
    ),
]


EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="local: this machine's cores (worker processes for large NDJSON logs); dask: partitions "
        "(files, chunks of large NDJSON logs) on a Dask cluster, a local one unless --scheduler "
        "(the dask extra: pip install 'vevents\\[dask]').",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --engine dask: the scheduler of an existing Dask cluster (tcp://HOST:8786).",
    ),
]


def followed(paths: list[str] | None) -> tuple[str, ...]:
    """`show --follow`: the one file it follows, as the run's inputs; anything else is a usage error."""
    from vevents_cli.pipeline.sources import GZIP_MAGIC

    given = paths or []
    if len(given) != 1 or given[0] == "-":
        raise typer.BadParameter(
            f"follows exactly one FILE as it grows (got {len(given) or 'none'}{' (stdin)' if given == ['-'] else ''}): "
            "vevents show --follow log.ndjson",
            param_hint="--follow",
        )
    path = Path(given[0])
    try:
        if path.is_dir():
            raise IsADirectoryError
        if not path.exists() or path.is_file():  # a FIFO or a pipe (/dev/stdin) is not read twice
            with path.open("rb") as file:
                head = file.read(2)
        else:
            head = b""
    except IsADirectoryError:
        raise typer.BadParameter(f"{given[0]} is a folder: follow one file", param_hint="--follow") from None
    except OSError as exc:
        raise typer.BadParameter(f"{given[0]}: {exc.strerror or exc}", param_hint="--follow") from None
    if head == GZIP_MAGIC:
        raise typer.BadParameter(
            f"{given[0]} is gzip-compressed, and a compressed file cannot be followed as it grows: "
            "read it without --follow",
            param_hint="--follow",
        )
    return (given[0],)


def checked(command: Callable[..., T]) -> Callable[..., T]:
    """The command, refusing contradictory options (see `CONTRADICTIONS`) before it runs."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> T:
        ctx = click.get_current_context()
        given = frozenset(
            name for name in ctx.params if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        )
        refuse_contradictions(ctx.info_name or "", ctx.params, given)
        return command(*args, **kwargs)

    return run


class TextOrJson(enum.StrEnum):
    """`--format` of the commands that print for people (text) or for programs (json)."""

    text = "text"
    json = "json"


# The --dialect choices are the dialects table's names.
Dialect = enum.StrEnum("Dialect", {name: name for name in dialects.NAMES})  # type: ignore[misc]
DEFAULT_DIALECT = Dialect(dialects.V2024)


def several_sources(paths: tuple[str, ...]) -> bool:
    """Whether the inputs are more than one source (files found in folders count one each)."""
    import itertools

    from vevents_cli.pipeline.sources import expand

    return len(list(itertools.islice(expand(paths), 2))) > 1


def secret(given: str | None, secret_file: Path | None, required: bool) -> str | None:
    """--secret, else --secret-file, else $VOUCHERIFY_WEBHOOK_SECRET. Never echoed anywhere."""
    from vevents_cli.voucherify.signatures import SECRET_ENV  # hashing modules: only for the commands that check

    if given is None and secret_file is not None:
        try:
            given = secret_file.read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read the secret file: {exc}", param_hint="--secret-file") from None
        if not given:
            from vevents_cli.output.text import name, safe

            raise typer.BadParameter(f"{safe(name(str(secret_file)))}: empty secret file", param_hint="--secret-file")
    if given is None:
        given = os.environ.get(SECRET_ENV)
    if not given and required:
        raise typer.BadParameter(
            f"no webhook secret: give --secret-file FILE, set {SECRET_ENV}, or --secret S", param_hint="--secret"
        )
    return given or None


def required_secret(given: str | None, secret_file: Path | None) -> str:
    """The secret as `secret` finds it; a usage error when there is none."""
    found = secret(given, secret_file, required=True)
    assert found is not None  # `required` raised otherwise
    return found


FileId = tuple[int, int]  # (device, inode): the same file under any name, hard links included


def _file_id(st: os.stat_result) -> FileId | None:
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def stdin_file() -> FileId | None:
    """The file standard input is redirected from (`< in.ndjson`), if it is one."""
    try:
        return _file_id(os.fstat(sys.stdin.fileno()))
    except (AttributeError, ValueError, OSError):  # no stdin, or not a real file descriptor (a test runner's)
        return None


def input_files(paths: tuple[str, ...]) -> frozenset[FileId]:
    """Every regular file the inputs would read (folders walked; stdin's file when redirected)."""
    from vevents_cli.pipeline.sources import Source, expand

    found: set[FileId | None] = set()
    for source in expand(paths):
        if isinstance(source, Source):
            if source.stdin:
                found.add(stdin_file())
            elif source.path is None:  # a remote object
                continue
            else:
                with contextlib.suppress(OSError):
                    found.add(_file_id(source.path.stat()))
    found.discard(None)
    return frozenset(found)  # type: ignore[arg-type]


def existing_file(path: Path) -> FileId | None:
    try:
        return _file_id(path.stat())
    except OSError:
        return None


def refuse_inputs(out: Path, paths: tuple[str, ...], command: str, *, folder: bool = False) -> None:
    """Usage error if writing `out` would overwrite the input, or add to it.

    The same file is the same device and inode, whatever its name: a symlink, a hard link,
    or the file standard input is redirected from. A `folder` output (split) must not
    overlap an input folder: the files written there would be read back as input.
    """
    from vevents_cli.pipeline.sources import is_event_file

    target = existing_file(out)
    if target is not None and target in input_files(paths):
        shown = "standard input" if target == stdin_file() and "-" in paths else "one of the input files"
        raise typer.BadParameter(f"{out} is {shown}; {command} never modifies its input", param_hint="--out")
    where = out.resolve()
    for arg in paths:
        if arg == "-" or not Path(arg).is_dir():
            continue
        given = Path(arg).resolve()
        if folder and (where.is_relative_to(given) or given.is_relative_to(where)):
            raise typer.BadParameter(
                f"{out} overlaps the input folder {arg}; the files written would be read as input or overwrite it",
                param_hint="--out",
            )
        if not folder and where.is_relative_to(given) and is_event_file(where):
            raise typer.BadParameter(
                f"{out} is inside the input folder {arg}; it would be read as input", param_hint="--out"
            )


# --- filters: declared once, added to every command that reads events ----------------------------


def _filter(kind: Any, flag: str, metavar: str | None, keeps: str, **more: Any) -> Any:
    """One filter option, shown under "Filters" in --help."""
    return Annotated[
        kind, typer.Option(flag, metavar=metavar, rich_help_panel="Filters", help=f"Only events {keeps}.", **more)
    ]


_MOMENT = "TIME: ISO 8601, or 30m, 2h, 3d, 1w ago"
_FILTER_OPTIONS = {
    "types": _filter(
        list[str] | None,
        "--type",
        "GLOB",
        "whose type or custom name matches GLOB (fnmatch; repeatable)",
        autocompletion=complete_type,
    ),
    "customer": _filter(str | None, "--customer", "X", "about this customer (id, source_id or email)"),
    "voucher": _filter(str | None, "--voucher", "CODE", "about this voucher (code or id)"),
    "campaign": _filter(str | None, "--campaign", "X", "of this campaign (id or name)"),
    "since": _filter(str | None, "--since", "TIME", f"created at or after {_MOMENT}"),
    "until": _filter(str | None, "--until", "TIME", f"created at or before {_MOMENT}"),
    "invalid": _filter(bool, "--invalid", None, "that fail validation"),
}


def _filters(
    types: list[str] | None,
    customer: str | None,
    voucher: str | None,
    campaign: str | None,
    since: str | None,
    until: str | None,
    invalid: bool,
) -> Filters:
    try:
        filters = Filters.from_options(types, customer, voucher, campaign, since, until, invalid)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if filters.since is not None and filters.until is not None and filters.since > filters.until:
        raise click.UsageError(
            f"--since {since} and --until {until} contradict each other (since is after until): no event can match"
        )
    for note in _misspelt(types or ()):
        sys.stderr.write(note + "\n")
    return filters


def _misspelt(globs: Iterable[str]) -> list[str]:
    """A note for each --type GLOB that matches no known type but is close to one (it may
    still be a custom name, so it is not an error)."""
    import fnmatch

    from vevents_cli.output.text import did_you_mean, safe

    names = type_names()
    notes = []
    for glob in globs:
        suggestion = "" if fnmatch.filter(names, glob) else did_you_mean(glob, names)
        if suggestion:
            notes.append(
                f"vevents: --type {safe(glob)!r} matches no known event type{suggestion}; "
                "kept, as it may be a custom name"
            )
    return notes


def filtered(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the filter options (--type, --customer, ...); it receives `filters: Filters`."""
    signature = inspect.signature(command)
    options = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=False if name == "invalid" else None, annotation=annotation
        )
        for name, annotation in _FILTER_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in _FILTER_OPTIONS}
        return command(*args, filters=_filters(**given), **kwargs)

    hints = typing.get_type_hints(command, include_extras=True)  # the commands' annotations are strings
    own = [p.replace(annotation=hints[p.name]) for p in signature.parameters.values() if p.name != "filters"]
    del wrapper.__wrapped__  # Typer must read the signature below
    wrapper.__signature__ = signature.replace(parameters=own + options)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + options}
    return wrapper
