"""The terminal side of a command: output streams, the colour policy, the progress bar.

Colour: `NO_COLOR` (set and not empty) turns it off, `FORCE_COLOR` on; otherwise a
stream is coloured when it is a terminal (and TERM is not `dumb`). The progress bar
shows on stderr while a command reads files, when stderr is a terminal and stdout is
not printing to it as it goes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import IO

from vevents_cli.output.streams import Streams


def _tty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False


def colour(tty: bool) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return tty and os.environ.get("TERM") != "dumb"


def streams() -> Streams:
    out_tty, err_tty = _tty(sys.stdout), _tty(sys.stderr)
    return Streams(sys.stdout, sys.stderr, out_tty, err_tty, colour(out_tty), colour(err_tty))


@contextlib.contextmanager
def progress(paths: tuple[str, ...], out: Streams, deferred: bool) -> Iterator[object]:
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
        if isinstance(source, Source) and source.path is not None:
            with contextlib.suppress(OSError):
                total += source.path.stat().st_size
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[events]} events"), TimeElapsedColumn())
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
