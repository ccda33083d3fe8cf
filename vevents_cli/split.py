"""Split a log into fixtures: one pretty JSON file per event, at `<type>/<created_at>-<id>.json`.

`piece` is the pipeline projection (an event to its file name and bytes, made where the
event is): the payload is read again from its bytes as an exact tree (`exactjson`), so a
fixture holds every number as written and every member of an object with duplicate keys,
indented by two; `FixtureWriter.write` writes the pieces in input order. File names keep only
`[A-Za-z0-9._-]` (colons become `-`, anything else `_`), so a payload can never name a
path outside the output folder. Two events that would share a name get `-2`, `-3`...; a
file that was there before the run is never overwritten unless `force`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vevents_cli import exactjson
from vevents_cli.model import Locator, Summary, Unreadable
from vevents_cli.output.streams import Streams, drain

UNKNOWN = "unknown"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_NAME = 120


def safe_name(text: str | None, fallback: str) -> str:
    """A file name made of `[A-Za-z0-9._-]` only, never hidden, `.` or `..`."""
    name = _UNSAFE.sub("_", (text or "").replace(":", "-")).lstrip(".")[:MAX_NAME]
    return name or fallback


def relative_path(s: Summary) -> Path:
    """Where an event goes inside the output folder (before collision suffixes)."""
    event = s.event
    folder = safe_name(event.type, UNKNOWN)
    stem = f"{safe_name(event.created_at, 'undated')}-{safe_name(event.id or event.delivery_id, 'noid')}"
    return Path(folder) / f"{stem}.json"


@dataclass(frozen=True, slots=True)
class Piece:
    """One event's fixture: where it goes inside the output folder and what it holds."""

    locator: Locator
    relative: Path
    data: bytes


def piece(s: Summary, bare: bool = False) -> Piece:
    """An event as a fixture file (a pipeline projection: may run in a worker process)."""
    tree = exactjson.payload(s.event.raw, s.event.payload)
    body = exactjson.at(tree, s.event.payload, s.event.data) if bare else tree
    if body is None:  # data that is not a member of the payload (never, with the bundled dialects)
        body = exactjson.from_value(s.event.data)
    return Piece(s.event.locator, relative_path(s), exactjson.dumps(body, pretty=True, newline=True))


class Exists(Exception):
    """The file is there from before the run, and `force` was not given (or it is an input)."""

    def __init__(self, path: Path, reason: str = "exists (use --force to overwrite)") -> None:
        super().__init__(f"{path} {reason}")
        self.path = path


@dataclass
class FixtureWriter:
    out: Path
    force: bool = False
    inputs: frozenset[tuple[int, int]] = frozenset()  # (device, inode) of the input files: never overwritten
    written: set[Path] = field(default_factory=set)
    failed: int = 0

    def write(self, p: Piece) -> Path:
        """Write one event; the path written. Raises `Exists`, or OSError."""
        base = self.out / p.relative
        path, n = base, 1
        while path in self.written:
            n += 1
            path = base.with_name(f"{base.stem}-{n}{base.suffix}")
        data = p.data
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.force and self.inputs and _file_id(path) in self.inputs:
            raise Exists(path, "is an input file: split never overwrites its input")
        try:
            with path.open("wb" if self.force else "xb") as f:
                f.write(data)
        except FileExistsError:
            raise Exists(path) from None
        self.written.add(path)
        return path


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def failure(p: Piece, exc: Exception) -> Unreadable:
    """A piece that could not be written, as an error line at its event."""
    reason = str(exc) if isinstance(exc, Exists) else f"cannot write: {getattr(exc, 'strerror', None) or exc}"
    return Unreadable(p.locator, reason)


def write_all(results: Any, writer: FixtureWriter, streams: Streams) -> None:
    """Write every piece of a run in input order; a piece that cannot be written is an error line."""

    def write(p: Piece) -> None:
        try:
            writer.write(p)
        except (Exists, OSError) as exc:
            writer.failed += 1
            streams.unreadable(failure(p, exc))

    drain(results, streams, write)
