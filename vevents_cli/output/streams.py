"""Output streams: stdout and stderr as one object, the colour policy, batched lines, and the
one loop that turns a run's results into output and its unreadable items into error lines.

`Streams` is built once per command (`cli.console` decides colour and width from the
options and the environment) and handed to the output modules. Its rich consoles never
interpret markup or emoji codes and never highlight, so text from payloads prints as
it is; the strings themselves pass through `text.safe` first.

Failed writes reach the one exit path as `stdio`'s exceptions: a rich console meeting a
closed pipe raises `BrokenPipeError` (not rich's own `SystemExit(1)`), and a failed write to
the file `--out` names (`write_to`, whole or not at all: `atomic`) raises `WriteError` naming it.
"""

from __future__ import annotations

import errno
import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from vevents_cli import jsonout
from vevents_cli.model import Locator, Note, Unreadable
from vevents_cli.output.stdio import WriteError
from vevents_cli.output.text import name, unreadable_line

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

ANSI = {
    "green": "\x1b[32m",
    "red": "\x1b[31m",
    "yellow": "\x1b[33m",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
    "cyan": "\x1b[36m",
    "magenta": "\x1b[35m",
}
RESET = "\x1b[0m"
PIPE_WIDTH = 1 << 16  # a table printed to a pipe is as wide as its values: nothing cut, nothing folded


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class QuietConsole(Console):
        """A rich console whose closed pipe is a `BrokenPipeError` (rich's own: `SystemExit(1)`)."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return QuietConsole


def paint(text: str, style: str | None, color: bool) -> str:
    """`text` in an ANSI colour when `color` (fast: no rich per line)."""
    return f"{ANSI[style]}{text}{RESET}" if color and style else text


@dataclass(slots=True)
class Streams:
    """A run's stdout and stderr: each a terminal or not, in colour or not."""

    out_text: IO[str]
    err_text: IO[str]
    out_tty: bool = False
    err_tty: bool = False
    color: bool = False  # stdout in colour
    err_color: bool = False
    width: int | None = None  # None: the terminal's (or 80 in a pipe)
    _consoles: dict[tuple[bool, bool], Console] = field(default_factory=dict)

    @property
    def out(self) -> IO[bytes]:
        return self.out_text.buffer  # type: ignore[attr-defined,no-any-return]

    @property
    def err(self) -> IO[bytes]:
        return self.err_text.buffer  # type: ignore[attr-defined,no-any-return]

    def console(self, stderr: bool = False, tables: bool = False) -> Console:
        """A rich console on stdout (or stderr) that never reads markup from the text it prints.

        `tables`: for printing tables, which in a pipe are as wide as their values.
        """
        key = (stderr, tables and not self.out_tty)
        console = self._consoles.get(key)
        if console is None:
            tty, color = (self.err_tty, self.err_color) if stderr else (self.out_tty, self.color)
            console = self._consoles[key] = _console_class()(
                file=self.err_text if stderr else self.out_text,
                color_system="auto" if color else None,
                force_terminal=True if color and not tty else None,
                no_color=not color,
                markup=False,
                emoji=False,
                highlight=False,
                width=PIPE_WIDTH if key[1] else self.width,
            )
        return console

    def write_err(self, line: str, style: str | None = None) -> None:
        """One line on stderr (already safe text)."""
        self.out_text.flush()
        self.err.write((paint(line, style, self.err_color) + "\n").encode("utf-8", "replace"))
        self.err.flush()

    def unreadable(self, item: Unreadable) -> None:
        self.write_err(unreadable_line(item), "red")

    def note(self, line: str) -> None:
        self.write_err(line, "dim")


class Lines:
    """Writes lines to a binary stream in batches of `batch` lines or 1 MiB, whichever first
    (batch=1: each line at once, for streams)."""

    def __init__(self, out: IO[bytes], batch: int = 512) -> None:
        self.out = out
        self.batch = batch
        self.buffer: list[bytes] = []
        self.size = 0

    def write(self, obj: Any) -> None:
        """One JSON value as one line."""
        self.add(jsonout.dumps(obj, newline=True))

    def text(self, line: str) -> None:
        self.add(line.encode() + b"\n")

    def add(self, data: bytes) -> None:
        """Whole lines (one, or several joined)."""
        self.buffer.append(data)
        self.size += len(data)
        if len(self.buffer) >= self.batch or self.size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.out.write(b"".join(self.buffer))
            self.buffer.clear()
            self.size = 0
        self.out.flush()


def drain(
    results: Iterable[T | Unreadable | Note],
    streams: Streams,
    emit: Callable[[T], Any],
    lines: Lines | None = None,
    unreadable: Callable[[Unreadable], Any] | None = None,
    notes: bool = True,
) -> None:
    """The one loop over a run's results: each to `emit`, each unreadable item to stderr
    (or to `unreadable`, for a format that reports them itself), each `Note` to stderr
    (unless not `notes`: a quiet format).

    Pending `lines` are written before an error line, so both streams stay in input order.
    The results are closed however the loop ends (a closed pipe, Ctrl-C), which ends any
    worker processes behind them.
    """
    it = iter(results)
    try:
        for result in it:
            if isinstance(result, Note):  # how the input was read: a line on stderr
                if notes:
                    if lines is not None:
                        lines.flush()
                    streams.note(unreadable_line(result))
            elif isinstance(result, Unreadable):
                if unreadable is not None:
                    unreadable(result)
                    continue
                if lines is not None:
                    lines.flush()
                streams.unreadable(result)
            else:
                emit(result)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
        if lines is not None:
            lines.flush()


def write_to(
    path: Path | None,
    results: Iterable[bytes | Unreadable | Note],
    streams: Streams,
    streaming: bool,
    header: str | None = None,
    keep: Callable[[], bool] | None = None,
) -> bool:
    """A run's lines (after a `header` line) into the file at `path`, or stdout; batched unless
    `streaming` (then each as soon as it is read). The file is written whole or not at all
    (`atomic`): it takes the place of what `path` held only once the run is over, and only if
    `keep()` says so then (a run that read nothing leaves it as it was). False, with an error
    line, if it cannot be created."""
    if path is None:
        _write_lines(streams.out, results, streams, streaming, header)
        return True
    from vevents_cli.output import atomic

    try:
        with atomic.Replacement(path) as replacement:
            try:
                _write_lines(replacement.file, results, streams, streaming, header)
            except OSError as exc:
                if isinstance(exc, (WriteError, BrokenPipeError)):
                    raise
                raise WriteError.of(exc, str(path)) from None
            if keep is None or keep():
                replacement.commit()
    except atomic.CannotCreate as exc:
        streams.unreadable(Unreadable(Locator(name(str(path)), 0), f"cannot write: {exc.strerror or exc}"))
        return False
    return True


def _write_lines(
    target: IO[bytes],
    results: Iterable[bytes | Unreadable | Note],
    streams: Streams,
    streaming: bool,
    header: str | None,
) -> None:
    lines = Lines(target, batch=1 if streaming else 512)
    if header is not None:
        lines.text(header)
    drain(results, streams, lines.add, lines)
