"""Options shared by the commands, and the `RunConfig` they become.

Every check of a command line happens here, before any input is read: `--as` names a
known type, `--since` is a time, `--schemas` compiles, an output is not an input. A
failed check is a usage error (exit 2) naming the option.
"""

from __future__ import annotations

import enum
import functools
import inspect
import os
import re
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from vevents_cli.pipeline.config import MAX_VALUE_SIZE, RunConfig
from vevents_cli.pipeline.filters import Filters
from vevents_cli.voucherify import dialects

if TYPE_CHECKING:
    from vevents_cli.model import Summary
    from vevents_cli.pipeline import Progress, Run

T = TypeVar("T")

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
SECRET_ENV = "VOUCHERIFY_WEBHOOK_SECRET"

_SIZE = re.compile(r"\s*([0-9]+)\s*(?:([KMG])(?:i?B)?|B)?\s*", re.IGNORECASE)
_SCALE = {None: 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def value_size(text: str | int) -> int:
    """`--max-value-size`: bytes, or K, M, G (KiB, MiB, GiB; KB, MB, GB are read the same)."""
    if isinstance(text, int):
        return text
    m = _SIZE.fullmatch(text)
    size = int(m.group(1)) * _SCALE[m.group(2) and m.group(2).upper()] if m else 0
    if size <= 0:
        raise typer.BadParameter(f"{text!r} is not a size: give bytes, or a number with K, M or G (64M, 1G)")
    return size


MaxValueSize = Annotated[
    int,
    typer.Option("--max-value-size", metavar="SIZE", parser=value_size, show_default="64M",
                 help="Skip any JSON value (or line) larger than SIZE: bytes, or with K, M, G (64M, 1G). "
                      "Memory stays bounded by it."),
]



class TextOrJson(enum.StrEnum):
    """`--format` of the commands that print for people (text) or for programs (json)."""

    text = "text"
    json = "json"


# The --dialect choices are the dialects table's names.
Dialect = enum.StrEnum("Dialect", {name: name for name in dialects.NAMES})  # type: ignore[misc]
DEFAULT_DIALECT = Dialect(dialects.V2024)


def inputs(paths: list[str] | None) -> tuple[str, ...]:
    """PATH arguments, or stdin when piped; a terminal with no input is a usage error."""
    if paths:
        return tuple(paths)
    if sys.stdin is None or sys.stdin.isatty():
        raise typer.BadParameter(
            "no input: give a PATH, or pipe JSON in (e.g. vevents sample voucher.published | vevents show)",
            param_hint="PATHS",
        )
    return ("-",)


def event_type(name: str | None, hint: str) -> str | None:
    """A type name given on the command line, checked against the catalogue (None passes)."""
    if name is None:
        return None
    from vevents_cli.voucherify import catalogue

    entry = catalogue.lookup(name)
    if entry is None:
        raise typer.BadParameter(f"unknown event type {name!r} (see: vevents types)", param_hint=hint)
    return entry.name


def run_config(paths: tuple[str, ...], *, as_type: str | None = None, strict: bool = False,
               user_schemas: Path | None = None, filters: Filters | None = None, facts: bool = True,
               validate: bool = True, follow: bool = False, max_value_size: int = MAX_VALUE_SIZE,
               exact_numbers: bool = False) -> RunConfig:
    return RunConfig(inputs=paths, follow=follow, as_type=event_type(as_type, "--as"), validate=validate,
                     strict=strict, user_schemas=user_schemas, facts=facts, filters=filters or Filters(),
                     max_value_size=max_value_size, exact_numbers=exact_numbers)


def start(config: RunConfig, project: Callable[[Summary], T] | None = None,
          progress: Progress | None = None, **more: Any) -> Run[T]:
    """`pipeline.run`, with a `--schemas` folder that cannot be used turned into a usage error."""
    from vevents_cli import pipeline

    try:
        if project is None:
            return pipeline.run(config, progress=progress, **more)  # type: ignore[return-value]
        return pipeline.run(config, project, progress=progress, **more)
    except pipeline.SchemaProblem as exc:
        raise typer.BadParameter(str(exc), param_hint="--schemas") from exc


def secret(given: str | None, secret_file: Path | None, required: bool) -> str | None:
    """--secret, else --secret-file, else $VOUCHERIFY_WEBHOOK_SECRET. Never echoed anywhere."""
    if given is None and secret_file is not None:
        try:
            given = secret_file.read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read the secret file: {exc}", param_hint="--secret-file") from None
    if given is None:
        given = os.environ.get(SECRET_ENV)
    if not given and required:
        raise typer.BadParameter(
            f"no webhook secret: give --secret-file FILE, set {SECRET_ENV}, or --secret S", param_hint="--secret"
        )
    return given or None


def refuse_inputs(out: Path, paths: tuple[str, ...], command: str) -> None:
    """Usage error if writing `out` would overwrite (or add to) the input."""
    from vevents_cli.pipeline.sources import Source, expand, is_event_file

    target = out.resolve()
    for source in expand(paths):
        if isinstance(source, Source) and source.path is not None and source.path.resolve() == target:
            raise typer.BadParameter(f"{out} is one of the input files; {command} never modifies its input",
                                     param_hint="--out")
    for arg in paths:
        folder = Path(arg)
        inside = arg != "-" and folder.is_dir() and target.is_relative_to(folder.resolve())
        if inside and is_event_file(target):
            raise typer.BadParameter(f"{out} is inside the input folder {arg}; it would be read as input",
                                     param_hint="--out")


# --- filters: declared once, added to every command that reads events ----------------------------


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
NO_FILTERS = Filters()


def _filters(types: list[str] | None, customer: str | None, voucher: str | None, campaign: str | None,
             since: str | None, until: str | None, invalid: bool) -> Filters:
    try:
        return Filters.from_options(types, customer, voucher, campaign, since, until, invalid)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def filtered(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the filter options (--type, --customer, ...); it receives `filters: Filters`."""
    signature = inspect.signature(command)
    options = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False if name == "invalid" else None,
                          annotation=annotation)
        for name, annotation in _FILTER_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in _FILTER_OPTIONS}
        return command(*args, filters=_filters(**given), **kwargs)

    hints = typing.get_type_hints(command, include_extras=True)  # the commands' annotations are strings
    own = [p.replace(annotation=hints[p.name]) for p in signature.parameters.values() if p.name != "filters"]
    del wrapper.__wrapped__  # type: ignore[attr-defined]  # Typer must read the signature below
    wrapper.__signature__ = signature.replace(parameters=own + options)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + options}
    return wrapper
