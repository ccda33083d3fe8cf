"""The terminal side of a command: output streams, the colour policy, the progress bar.

Colour: `--color always|never` decides; with `--color auto` (the default) `NO_COLOR`
(set and not empty) turns it off, `FORCE_COLOR` on; otherwise a stream is coloured when
it is a terminal (and TERM is not `dumb`). The choice is made once per run (`choose`:
from the app's callback, kept in the click context; the fast path, which has no click context,
uses `chosen`) and every output takes it from `streams()`. The progress bar
shows on stderr while a command reads files, when stderr is a terminal and stdout is
not printing to it as it goes.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import time
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from vevents_cli.output.streams import Streams

if TYPE_CHECKING:
    from vevents_cli.pipeline.runner import Progress as ProgressCallback

_CHOICE = "vevents.color"  # where the run's --color is kept: the click context's meta
_chosen: list[Color] = []  # a run without a click context (the fast path): its --color


class Color(enum.StrEnum):
    """`--color`: when output is coloured."""

    auto = "auto"
    always = "always"
    never = "never"


def _context() -> Any:
    """The current click context, if click is loaded and a command is running (the Typer path)."""
    click = sys.modules.get("click")
    return click.get_current_context(silent=True) if click is not None else None


def choose(choice: Color) -> None:
    """Remember this run's --color (called once, by the app's callback)."""
    context = _context()
    if context is not None:
        context.meta[_CHOICE] = choice


@contextlib.contextmanager
def chosen(choice: Color) -> Iterator[None]:
    """This run's --color, for a run without a click context (the fast path)."""
    _chosen.append(choice)
    try:
        yield
    finally:
        _chosen.pop()


def _choice() -> Color:
    context = _context()
    if context is not None:
        return context.meta.get(_CHOICE, Color.auto)  # type: ignore[no-any-return]
    return _chosen[-1] if _chosen else Color.auto


def _tty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False


def colour(tty: bool, choice: Color = Color.auto) -> bool:
    if choice is not Color.auto:
        return choice is Color.always
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return tty and os.environ.get("TERM") != "dumb"


def streams() -> Streams:
    out_tty, err_tty = _tty(sys.stdout), _tty(sys.stderr)
    choice = _choice()
    return Streams(sys.stdout, sys.stderr, out_tty, err_tty, colour(out_tty, choice), colour(err_tty, choice))


def width(out: Streams) -> int | None:
    """The width of the terminal stdout prints to (COLUMNS, if set, wins); None when not a terminal."""
    if not out.out_tty:
        return None
    import shutil

    return out.width or shutil.get_terminal_size().columns


@contextlib.contextmanager
def progress(paths: tuple[str, ...], out: Streams, deferred: bool) -> Iterator[ProgressCallback | None]:
    """A `pipeline.Progress` callback drawing a bar on stderr, or None where none is wanted.

    Only when stderr is a terminal, the inputs are files, and stdout is not that terminal
    printing as it goes (`deferred`: the command prints only at the end).
    """
    if not out.err_tty or "-" in paths or not (deferred or not out.out_tty):
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from vevents_cli.pipeline.sources import Source, expand

    total = 0
    for source in expand(paths):
        if isinstance(source, Source):
            total += source.size() or 0
    columns = (
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[events]} events"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out.console(stderr=True), transient=True, redirect_stdout=False) as bar:
        task = bar.add_task("reading", total=total or None, events=0)
        done = items = 0
        last = 0.0

        def advance(nbytes: int, count: int) -> None:
            nonlocal done, items, last
            done, items = done + nbytes, items + count
            now = time.monotonic()
            if now - last >= 0.1:
                last = now
                bar.update(task, completed=min(done, total) if total else done, events=items)

        yield advance
