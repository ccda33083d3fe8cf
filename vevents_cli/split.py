"""Split a log into fixtures: one pretty JSON file per event, at `<type>/<created_at>-<id>.json`.

`piece` is the pipeline projection (an event to its file name and bytes, made where the
event is): the payload is read again from its bytes as an exact tree (`exactjson`), so a
fixture holds every number as written and every member of an object with duplicate keys,
indented by two; `FixtureWriter.write` writes the pieces in input order. File names keep only
`[A-Za-z0-9._-]` (colons become `-`, anything else `_`), so a payload can never name a
path outside the output folder. Two events that would share a name get `-2`, `-3`...; a
file that was there before the run is never overwritten unless `force`. Each fixture is
written whole (a hidden temporary file beside it, given its name once complete), and a run
that cannot finish (a full disk, Ctrl-C, SIGTERM) removes every file and folder it created:
all or nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vevents_cli import exactjson
from vevents_cli.model import Locator, Summary, Unreadable
from vevents_cli.output.stdio import WriteError
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
    """Writes a run's fixtures, each whole (`atomic`: a temporary file, given its name once
    complete); `undo` removes what this run created, folders included."""

    out: Path
    force: bool = False
    inputs: frozenset[tuple[int, int]] = frozenset()  # (device, inode) of the input files: never overwritten
    written: set[Path] = field(default_factory=set)
    failed: int = 0
    created: list[Path] = field(default_factory=list)  # files and folders that were not there before the run

    def write(self, p: Piece) -> Path:
        """Write one event; the path written. Raises `Exists`, or `WriteError` naming the file."""
        from vevents_cli.output.atomic import Replacement

        base = self.out / p.relative
        path, n = base, 1
        while path in self.written:
            n += 1
            path = base.with_name(f"{base.stem}-{n}{base.suffix}")
        self._folder(path.parent)
        if self.force and self.inputs and _file_id(path) in self.inputs:
            raise Exists(path, "is an input file: split never overwrites its input")
        new = not os.path.lexists(path)
        if not new and not self.force:
            raise Exists(path)
        with Replacement(path, exclusive=not self.force) as fixture:
            try:
                fixture.file.write(p.data)
            except OSError as exc:
                raise WriteError.of(exc, str(path)) from None
            if new:
                self.created.append(path)  # before it is there: `undo` removes it whenever the run stops
            try:
                fixture.commit()
            except FileExistsError:
                self.created.pop()
                raise Exists(path) from None
        self.written.add(path)
        return path

    def _folder(self, folder: Path) -> None:
        missing = []
        for parent in (folder, *folder.parents):
            if parent.is_dir():
                break
            missing.append(parent)
        for parent in reversed(missing):
            self.created.append(parent)  # before it is made: `undo` removes it whenever the run stops
            try:
                parent.mkdir()
            except FileExistsError:
                self.created.pop()
            except OSError as exc:
                self.created.pop()
                raise WriteError.of(exc, str(parent)) from None

    def undo(self) -> None:
        """Remove every file and folder this run created (newest first; a folder only if empty)."""
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        self.created.clear()
        self.written.clear()


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def failure(p: Piece, exc: Exists) -> Unreadable:
    """A piece whose file is there already, as an error line at its event."""
    return Unreadable(p.locator, str(exc))


def write_all(results: Any, writer: FixtureWriter, streams: Streams) -> None:
    """Write every piece of a run in input order; a piece whose file is there already is an
    error line. All or nothing: when a file cannot be written (a full disk) or the run is cut
    short (Ctrl-C, SIGTERM), every file and folder the run created is removed, and the error
    goes on to the one exit path (`WriteError`: one line, status 74)."""

    def write(p: Piece) -> None:
        try:
            writer.write(p)
        except Exists as exc:
            writer.failed += 1
            streams.unreadable(failure(p, exc))

    try:
        drain(results, streams, write)
    except BaseException:
        writer.undo()
        raise
