"""The fast path: `vevents validate PATHS...` with the options CI and pre-commit give, run without
building the Typer app (neither click nor Typer is imported, nor rich unless a progress bar shows).

`command(args)` (called by `app.status_of`, after `hoisted`) recognises an argument list it
understands whole: `[--color X] validate [PATHS...]` with any of `OPTIONS`, each at most once,
`--` ending them. It returns the run: what the Typer command runs (`validating.validate_run`),
with the same values, which `app.status_of` runs through `app.guarded` as it runs a Typer
command, so the `RunConfig`, the report and the status are the same. For anything else it
returns None and the run goes through Typer, so every usage error is Typer's own: help,
another command, an option not in the table or given twice, a value not among the choices or
missing, options that contradict each other (`runs.CONTRADICTIONS`), shell completion (a
`*_COMPLETE` variable), and the checks `validate_run` makes before it reads anything (no
input at a terminal, an unknown `--as` type; should another usage error come from the run, it
is raised before any input is read, and Typer runs instead). `VEVENTS_NO_FAST=1` turns the
fast path off: the tests compare the two paths (tests/cli/test_fast_path.py, which also holds
`OPTIONS` equal to the click command Typer builds from `validate.py`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from vevents_cli.cli.console import Color
from vevents_cli.cli.status import ExitStatus

COMMAND = "validate"
GLOBAL = "--color"  # the app's option (its choices: `Color`), moved before the command by `app.hoisted`
FLAG, CHOICE, VALUE = "flag", "choice", "value"
# option name -> (validate_run's parameter, what it takes: nothing, one of `validating.CHOICES`, any value)
OPTIONS: dict[str, tuple[str, str]] = {
    "--strict": ("strict", FLAG),
    "--quiet": ("quiet", FLAG),
    "-q": ("quiet", FLAG),
    "--only-invalid": ("only_invalid", FLAG),
    "--allow-empty": ("allow_empty", FLAG),
    "--format": ("fmt", CHOICE),
    "--expect": ("expect", CHOICE),
    "--as": ("as_type", VALUE),
}


def _take(args: list[str], i: int) -> tuple[str, str | None, int]:
    """The option at `args[i]`: its name, its value (`--x=V` or `--x V`; None when missing) and
    where the next argument is."""
    name, eq, value = args[i].partition("=")
    if eq:
        return name, value, i + 1
    return name, (args[i + 1] if i + 1 < len(args) else None), i + 2


def parse(args: list[str]) -> tuple[Color, list[str], dict[str, Any]] | None:
    """`--color`, the PATHS and `validate_run`'s keyword arguments of an argument list the fast path
    understands whole; None for any other."""
    if any(key.endswith("_COMPLETE") for key in os.environ):
        return None
    color, i = Color.auto, 0
    if args[:1] and args[0].partition("=")[0] == GLOBAL:
        _, value, i = _take(args, 0)
        if value is None or value not in Color.__members__:
            return None
        color = Color(value)
    if args[i : i + 1] != [COMMAND]:
        return None
    from vevents_cli.cli.validating import CHOICES  # (another command's run imports nothing here)

    paths: list[str] = []
    given: dict[str, Any] = {}
    i += 1
    while i < len(args):
        arg = args[i]
        if arg == "--":
            paths += args[i + 1 :]
            break
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            i += 1
            continue
        name = arg.partition("=")[0]
        if name not in OPTIONS or OPTIONS[name][0] in given:
            return None
        key, kind = OPTIONS[name]
        if kind == FLAG:
            if "=" in arg:
                return None
            given[key], i = True, i + 1
            continue
        _, value, i = _take(args, i)
        if value is None:
            return None
        if kind == CHOICE:
            choices = CHOICES[key]
            if value not in choices.__members__:
                return None
            given[key] = choices(value)
        else:
            given[key] = value
    return color, paths, given


def command(args: list[str]) -> Callable[[], ExitStatus] | None:
    """The run, if the fast path takes `args` (`app.status_of` runs it, through `app.guarded`);
    None: the run is Typer's."""
    parsed = parse(args)
    if parsed is None:
        return None
    color, paths, given = parsed
    import inspect

    from vevents_cli.cli import runs
    from vevents_cli.cli.validating import validate_run
    from vevents_cli.voucherify import catalogue

    params = {name: p.default for name, p in inspect.signature(validate_run).parameters.items() if name != "paths"}
    params.update(given)
    if runs.no_input(paths) or (given.get("as_type") is not None and catalogue.lookup(given["as_type"]) is None):
        return None  # validate_run's own usage errors, found before it starts
    if runs.contradiction(COMMAND, params, frozenset(given)) is not None:
        return None
    return functools.partial(_run, color, paths, given)


def _run(color: Color, paths: list[str], given: dict[str, Any]) -> ExitStatus:
    from vevents_cli.cli import console
    from vevents_cli.cli.validating import validate_run

    with console.chosen(color):
        return validate_run(paths or None, **given)
