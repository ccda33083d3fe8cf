"""The process's own stdout and stderr, set up once by the console script (`standard_streams`)
so that what goes wrong writing them reaches the one exit path (`cli/app.py`) as one kind
of exception, and nothing else.

stdout: its first failed write raises — `BrokenPipeError` for a closed pipe, `WriteError`
naming "stdout" for anything else (a full disk, EIO; a closed fd 1 is held on /dev/null
read-only, so writing it fails as EBADF) — and whatever is written after that is dropped,
so nothing fails twice. stderr never fails a run: closed, full or a closed pipe, what cannot
be written there is dropped. Kept small: the console script loads it before `--version`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys

TYPE_CHECKING = False  # (not `typing`'s: `--version` loads this module, and need not load typing)
if TYPE_CHECKING:
    from typing import IO, Any


class WriteError(OSError):
    """A write to an output that failed for a reason other than a closed pipe; `filename`
    names the output ("stdout", or the file's path)."""

    @classmethod
    def of(cls, exc: OSError, target: str) -> WriteError:
        return cls(exc.errno, exc.strerror or str(exc), target)


class _Stdout(io.FileIO):
    """fd 1: its first failed write raises (`BrokenPipeError` as it is, any other error as a
    `WriteError`); whatever is written after that is dropped, so nothing fails twice."""

    failed: int | None = None  # the errno of the first failed write

    def write(self, data: Any) -> int:
        if self.failed is not None:
            return len(data)
        try:
            return super().write(data)
        except OSError as exc:
            self.failed = exc.errno or errno.EIO
            if exc.errno == errno.EPIPE:
                raise
            raise WriteError.of(exc, "stdout") from None


class _Stderr(io.FileIO):
    """fd 2: writes that fail are dropped (there is nowhere to report them)."""

    def write(self, data: Any) -> int:
        try:
            return super().write(data) or len(data)
        except OSError:
            return len(data)


def _hold(fd: int, flags: int) -> None:
    """A closed standard fd opened on /dev/null (`flags`), so no file the run opens takes its number."""
    try:
        os.fstat(fd)
    except OSError:
        held = os.open(os.devnull, flags)
        if held != fd:
            os.dup2(held, fd)
            os.close(held)


def _text(raw: io.FileIO, old: IO[str] | None, errors: str, line_buffering: bool) -> io.TextIOWrapper:
    size = max(io.DEFAULT_BUFFER_SIZE, os.fstat(raw.fileno()).st_blksize)
    return io.TextIOWrapper(
        io.BufferedWriter(raw, buffer_size=size),
        encoding=getattr(old, "encoding", None) or "utf-8",
        errors=errors,
        line_buffering=line_buffering,
    )


def standard_streams() -> None:
    """Make sys.stdout and sys.stderr the process's checked stdout and forgiving stderr (see
    the module docstring). A closed stdout (`>&-`) is held on /dev/null read-only, so every
    write fails (EBADF); a closed stderr on /dev/null."""
    _hold(1, os.O_RDONLY)
    _hold(2, os.O_WRONLY)
    old_out, old_err = sys.stdout, sys.stderr
    for old in (old_out, old_err):
        if old is not None:
            with contextlib.suppress(OSError, ValueError):
                old.flush()
    sys.stdout = _text(
        _Stdout(1, "w", closefd=False),
        old_out,
        getattr(old_out, "errors", None) or "strict",
        bool(getattr(old_out, "line_buffering", False)),
    )
    sys.stderr = _text(_Stderr(2, "w", closefd=False), old_err, "backslashreplace", True)


def broken_pipe() -> bool:
    """Whether stdout has met a closed pipe (whoever caught the `BrokenPipeError`: rich's own
    consoles, typer's help among them, turn it into `SystemExit(1)`)."""
    raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
    return isinstance(raw, _Stdout) and raw.failed == errno.EPIPE
