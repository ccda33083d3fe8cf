"""The follow strategy: a growing file read like `tail -f`, a sources-stage generator of lines.

`lines(path)` yields the file's complete lines from the start, then waits for more,
polling every `interval` seconds. A partial last line is held until its newline arrives
(never more than `limit` bytes of it: see `sources.Splitter`).

At each poll that finds nothing new, the file is checked: replaced (rotated: the path
now names another device/inode) -- the rest of the old file is read, then the new one
from its start; truncated (smaller than what was read) or rewritten (its first 4 KiB
are no longer the ones read, even if it grew back larger within one poll; this is also
checked after each block read, so a rewrite racing a read is caught) -- read again from
the start. Either way a `Restart` marker comes first, so that line numbers start
again at 1 and a note says why. A FIFO or a pipe (`-f /dev/stdin`) cannot be sought, rotated
or truncated: its lines are read as they arrive until its writer closes it, and then the
run ends (as `tail -f` ends on a pipe). Feed the lines to `records.read_lines(name, lines)`;
`until_interrupted` ends them quietly on Ctrl-C, so that a followed run finishes like any
other.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.sources import Dropped, Restart, Splitter

POLL_INTERVAL = 0.2
CHUNK = 64 * 1024
HEAD = 4096  # the first bytes of the file, kept to tell a rewritten file from a grown one
ROTATED = "rotated (a new file at this path): reading it from the start"
TRUNCATED = "truncated or rewritten: reading from the start"

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


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class _File:
    """The open file being followed: where it is read up to, and its first bytes."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        info = os.fstat(stream.fileno())
        self.identity = (info.st_dev, info.st_ino)
        self.head = b""

    def read(self) -> bytes | None:
        """The next block (b"" at the end so far), or None: the file was rewritten meanwhile, and
        the block may be the new content read from the old position."""
        start = self.stream.tell()
        block = self.stream.read(CHUNK)
        if block:
            if start and self._head_changed():
                return None
            if start < HEAD:
                self.head = (self.head + block)[:HEAD]
        return block

    def _head_changed(self) -> bool:
        return bool(self.head) and os.pread(self.stream.fileno(), len(self.head), 0) != self.head

    def rewritten(self) -> bool:
        """Smaller than what was read, or its first bytes changed (rewritten, perhaps larger)."""
        return os.fstat(self.stream.fileno()).st_size < self.stream.tell() or self._head_changed()

    def restart(self) -> None:
        self.stream.seek(0)
        self.head = b""


def lines(
    path: str | Path, stop: Stop | None = None, interval: float = POLL_INTERVAL, limit: int = MAX_VALUE_SIZE
) -> Iterator[bytes | Dropped | Restart]:
    """The lines of `path`, as they are written, until `stop` is set (or Ctrl-C)."""
    path = Path(path)
    stream = path.open("rb", buffering=0)
    if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # a FIFO, a pipe (/dev/stdin), a device
        with stream:
            yield from _to_the_end(stream, limit)
        return
    current = _File(stream)
    splitter = Splitter(limit)
    try:
        while True:
            block = current.read()
            if block:
                yield from splitter.feed(block)
                continue
            if block is None:  # rewritten while it was being read
                current.restart()
                splitter = Splitter(limit)
                yield Restart(TRUNCATED)
                continue
            # At the end of what is written so far.
            if _stopped(stop):
                return
            _wait(stop, interval)
            identity = _identity(path)
            if identity is None:  # gone for now (between a rename and a create): wait for it
                continue
            if identity != current.identity:  # rotated: the rest of the old file, then the new one
                while block := current.read():  # (None: rewritten after its rotation: it is gone anyway)
                    yield from splitter.feed(block)
                try:
                    fresh = _File(path.open("rb", buffering=0))
                except OSError:  # gone again between the stat and the open: wait for it
                    continue
                yield from splitter.end()  # the old file's last line, even if it has no line end
                current.stream.close()
                current, splitter = fresh, Splitter(limit)
                yield Restart(ROTATED)
            elif current.rewritten():
                current.restart()
                splitter = Splitter(limit)  # a partial line of the old content is gone with it
                yield Restart(TRUNCATED)
    finally:
        current.stream.close()


def _to_the_end(stream: BinaryIO, limit: int) -> Iterator[bytes | Dropped]:
    """The lines of a stream that cannot be sought (a FIFO, a pipe) as they arrive, until its
    writer closes it; the last one even without a line end."""
    splitter = Splitter(limit)
    while block := os.read(stream.fileno(), CHUNK):  # what is there, as soon as it is there
        yield from splitter.feed(block)
    yield from splitter.end()


def until_interrupted(lines: Iterable[bytes | Dropped | Restart]) -> Iterator[bytes | Dropped | Restart]:
    """The lines until Ctrl-C arrives while waiting for more."""
    try:
        yield from lines
    except KeyboardInterrupt:
        return
