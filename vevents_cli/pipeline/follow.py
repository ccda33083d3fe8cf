"""The follow strategy: a growing file read like `tail -f`, a sources-stage generator of lines.

`lines(path)` yields the file's complete lines from the start, then waits for more,
polling every `interval` seconds. A partial last line is held until its newline arrives.
When the file shrinks (truncated) reading starts again from 0; when the path's inode
changes (rotated) the rest of the old file is read, then the new one is opened. Feed
the lines to `records.read_lines(name, lines)`; `until_interrupted` ends them quietly on
Ctrl-C, so that a followed run finishes like any other.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

POLL_INTERVAL = 0.2
CHUNK = 64 * 1024

Stop = Callable[[], bool] | threading.Event


def _stopped(stop: Stop | None) -> bool:
    if stop is None:
        return False
    return stop.is_set() if isinstance(stop, threading.Event) else bool(stop())


def _wait(stop: Stop | None, interval: float) -> None:
    if isinstance(stop, threading.Event):
        stop.wait(interval)
    else:
        time.sleep(interval)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def lines(path: str | Path, stop: Stop | None = None, interval: float = POLL_INTERVAL) -> Iterator[bytes]:
    """The lines of `path`, as they are written, until `stop` is set (or Ctrl-C)."""
    path = Path(path)
    stream: BinaryIO = path.open("rb")
    inode = os.fstat(stream.fileno()).st_ino
    partial = b""
    try:
        while True:
            chunk = stream.read(CHUNK)
            if chunk:
                *complete, partial = (partial + chunk).split(b"\n")
                for line in complete:
                    yield line + b"\n"
                continue
            # At the end of what is written so far.
            if _stopped(stop):
                return
            _wait(stop, interval)
            now_inode = _inode(path)
            if now_inode is not None and now_inode != inode:  # rotated: drain the old file, then reopen
                rest = stream.read()
                if rest:
                    *complete, partial = (partial + rest).split(b"\n")
                    yield from (line + b"\n" for line in complete)
                try:
                    fresh = path.open("rb")
                except OSError:  # gone again between the stat and the open: wait for it
                    continue
                stream.close()
                stream, partial = fresh, b""
                inode = os.fstat(stream.fileno()).st_ino
            elif now_inode is not None and os.fstat(stream.fileno()).st_size < stream.tell():  # truncated
                stream.seek(0)
                partial = b""
    finally:
        stream.close()


def until_interrupted(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The lines until Ctrl-C arrives while waiting for more."""
    try:
        yield from lines
    except KeyboardInterrupt:
        return
