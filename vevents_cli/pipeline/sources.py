"""Sources: where event bytes come from (files, folders, stdin), opened as binary streams.

A source never raises for bad input: opening problems become `Problem`s that the
records stage turns into one error line, and reading goes on with the next source.
"""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

STDIN_NAME = "<stdin>"
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Source:
    """A named stream of bytes: a file (gzip or not) or standard input."""

    name: str
    path: Path | None  # None for stdin

    def open(self) -> BinaryIO:
        """Open for binary reading; gzip is recognised by its magic bytes, not its name."""
        raw = sys.stdin.buffer if self.path is None else self.path.open("rb")
        if not hasattr(raw, "peek"):  # e.g. a test runner's in-memory stdin
            raw = io.BufferedReader(raw)  # type: ignore[arg-type]
        if raw.peek(2)[:2] == GZIP_MAGIC:
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        return raw


@dataclass(frozen=True, slots=True)
class Problem:
    """A PATH argument that could not become a source (missing, unreadable)."""

    name: str
    reason: str


def is_event_file(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(EVENT_SUFFIXES)


def _walk(folder: Path) -> Iterator[Path]:
    """Event files below a folder, depth first, in a stable (sorted) order."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise _Unlistable(exc.strerror or str(exc)) from exc
    for entry in entries:
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.is_file() and is_event_file(entry):
            yield entry


class _Unlistable(Exception):
    pass


def expand(paths: Iterable[str]) -> Iterator[Source | Problem]:
    """Turn PATH arguments into sources: files, folders (recursed), '-' for stdin."""
    for arg in paths:
        if arg == "-":
            yield Source(STDIN_NAME, None)
            continue
        path = Path(arg)
        if path.is_dir():
            try:
                for file in _walk(path):
                    yield Source(str(file), file)
            except _Unlistable as exc:
                yield Problem(arg, f"cannot list folder: {exc}")
        elif path.exists():
            yield Source(arg, path)
        else:
            yield Problem(arg, "no such file or folder")
