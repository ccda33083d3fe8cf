"""Sources: where event bytes come from (files, folders, stdin), and their lines, bounded.

A source never raises for bad input: opening problems become `Problem`s that the
records stage turns into one error line (or one note), and reading goes on with the next
source.

Folder walks read each real file once: a folder reached again (a link back up, a
second link to one folder: same device and inode) is skipped with a note, and so is a
file already read. Entries that cannot be read (a folder that cannot be listed, a
broken link, a FIFO or device named *.json) are reported and the walk goes on. Hidden
entries (names starting with ".") are skipped unless named on the command line, and so is
tool configuration (`package.json`, `tsconfig*.json`, lock files, `node_modules/`,
`vendor/`...: the list `.pre-commit-hooks.yaml` excludes), with one note each.

URLs (`s3://`, `gs://`, `az://`, `https://`, `memory://`, `file://`...: any argument that
starts with a scheme and `://`) are read through fsspec, which only the `remote` extra
installs: without it each URL is one unreadable item naming the extra, and the other
inputs are still read. A URL with glob characters (`*`, `?`, `[`) names every object it
matches, in sorted order; one that names a folder (a prefix) is walked like a local folder.
A remote object is streamed as it is read (memory stays flat), gzip recognised by its
magic bytes as a local file's is, and its locators name it by its URL; a `file://` URL is
read as the local file it names.

`lines(stream, limit)` cuts a stream into lines without ever holding more than `limit`
bytes of one line: a longer line is dropped as it is read (one `Dropped` in its place),
and a run of blank lines comes as one item, so neither costs memory or time per byte
beyond reading it.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from vevents_cli.output import text

STDIN_NAME = "<stdin>"
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
GZIP_MAGIC = b"\x1f\x8b"
BLOCK = 1024 * 1024  # read at most this much at a time
BINARY_AFTER = 64 * 1024  # an unfinished line longer than this with a NUL byte is binary data

# Tool configuration a walk skips (the same list as .pre-commit-hooks.yaml's `exclude`).
TOOL_FOLDERS = re.compile(
    r"node_modules|bower_components|jspm_packages|vendor|\.vscode|\.idea|\.devcontainer|\.venv|venv"
)
TOOL_FILES = re.compile(
    r"(package|package-lock|npm-shrinkwrap|composer|deno|bun|lerna|nx|project|turbo|vercel|firebase"
    r"|renovate|angular|tsconfig[^/]*|jsconfig[^/]*|\.eslintrc|\.prettierrc|\.babelrc|\.swcrc)\.json"
)
TOOL_SKIPPED = "tool configuration, not events: skipped (name it on the command line to read it)"


REMOTE_EXTRA = "remote inputs need the 'remote' extra: pip install 'vevents[remote]'"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB = re.compile(r"[*?\[]")


def is_url(arg: str) -> bool:
    """Whether a PATH argument is a URL (`scheme://...`), read through fsspec."""
    return _URL.match(arg) is not None


@dataclass(frozen=True, slots=True)
class Source:
    """A named stream of bytes: a file (gzip or not), a URL (`url`) or standard input."""

    name: str  # as every report names it (`text.name`: set here, once)
    path: Path | None  # None for stdin and URLs
    url: str | None = None  # a remote object, read through fsspec

    @property
    def stdin(self) -> bool:
        return self.path is None and self.url is None

    def size(self) -> int | None:
        """The size in bytes, where it is known without reading (None for stdin)."""
        try:
            if self.path is not None:
                return self.path.stat().st_size
            if self.url is not None:
                import fsspec

                fs, path = fsspec.core.url_to_fs(self.url)
                size = fs.size(path)
                return int(size) if size is not None else None
        except Exception:  # a size is only for the progress bar: a store that cannot tell has none
            return None
        return None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", text.name(self.name))

    def open(self) -> BinaryIO:
        """Open for binary reading; gzip is recognised by its magic bytes, not its name."""
        if self.url is not None:
            return _open_url(self.url)
        raw = sys.stdin.buffer if self.path is None else self.path.open("rb")
        if not hasattr(raw, "peek"):  # e.g. a test runner's in-memory stdin
            raw = io.BufferedReader(raw)
        return _unzipped(raw)


def _unzipped(raw: Any) -> BinaryIO:
    """The stream's bytes (a buffered stream, to peek at), gunzipped when it starts with gzip's magic bytes."""
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    return cast(BinaryIO, raw)


@dataclass(frozen=True, slots=True)
class Problem:
    """A PATH argument or folder entry that could not become a source (missing, unreadable),
    or, with `note`, one skipped on purpose (already read)."""

    name: str  # as every report names it (`text.name`: set here, once)
    reason: str
    note: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", text.name(self.name))


def is_event_file(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(EVENT_SUFFIXES)


def expand(paths: Iterable[str]) -> Iterator[Source | Problem]:
    """Turn PATH arguments into sources: files, folders (walked), '-' for stdin.

    A file named on the command line is always read; a file a walk reaches that was
    already read (by name, or through another link) is skipped with a note.
    """
    files: set[tuple[int, int]] = set()  # (device, inode) of every file read so far
    folders: set[tuple[int, int]] = set()  # and of every folder walked
    for arg in paths:
        if arg == "-":
            yield Source(STDIN_NAME, None)
            continue
        if is_url(arg):
            yield from _remote(arg)
            continue
        path = Path(arg)
        try:
            info = path.stat()
        except OSError as exc:
            yield Problem(arg, _missing(path, exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path, folders, files)
        else:
            files.add((info.st_dev, info.st_ino))
            yield Source(arg, path)


def _missing(path: Path, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder" + (" (a broken link)" if path.is_symlink() else "")
    return f"cannot read: {exc.strerror or exc}"


def _walk(root: Path, folders: set[tuple[int, int]], files: set[tuple[int, int]]) -> Iterator[Source | Problem]:
    """Event files below a folder, depth first, in a stable (sorted) order; each real one once."""
    stack: list[Iterator[Source | Problem | Path]] = [_listing(root, folders, files)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif isinstance(entry, Path):
            stack.append(_listing(entry, folders, files))
        else:
            yield entry


def _listing(
    folder: Path, folders: set[tuple[int, int]], files: set[tuple[int, int]]
) -> Iterator[Source | Problem | Path]:
    """One folder's event files (as sources) and subfolders (as paths, to walk), by name."""
    try:
        info = folder.stat()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield Problem(str(folder), f"cannot list folder: {exc.strerror or exc}")
        return
    key = (info.st_dev, info.st_ino)
    if key in folders:
        yield Problem(str(folder), "a link to a folder already read: skipped", note=True)
        return
    folders.add(key)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = folder / entry.name
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        if (TOOL_FOLDERS if is_folder else TOOL_FILES).fullmatch(entry.name):
            yield Problem(str(path), TOOL_SKIPPED, note=True)
        elif is_folder:
            yield path
        elif is_event_file(path):
            yield _file(path, entry, files)


def _file(path: Path, entry: os.DirEntry[str], files: set[tuple[int, int]]) -> Source | Problem:
    try:
        info = entry.stat()
    except OSError as exc:
        return Problem(str(path), _missing(path, exc))
    if not stat.S_ISREG(info.st_mode):
        return Problem(str(path), "not a regular file (a FIFO, socket or device): give it by name to read it")
    key = (info.st_dev, info.st_ino)
    if key in files:
        return Problem(str(path), "the same file as one already read: skipped", note=True)
    files.add(key)
    return Source(str(path), path)


# --- URLs, through fsspec ------------------------------------------------------------------------


def _open_url(url: str) -> BinaryIO:
    """A remote object's bytes, streamed; store errors (missing object, no access) as OSError."""
    import fsspec

    try:
        return _unzipped(io.BufferedReader(fsspec.open(url, "rb").open()))
    except OSError:
        raise
    except Exception as exc:  # a store's own errors (credentials, bad bucket names...)
        raise OSError(str(exc) or type(exc).__name__) from exc


def _remote(arg: str) -> Iterator[Source | Problem]:
    """A URL argument's sources: the object it names, every object its glob matches (sorted),
    or the event files below the prefix it names."""
    try:
        import fsspec
    except ImportError:
        yield Problem(arg, REMOTE_EXTRA)
        return
    try:
        fs, path = fsspec.core.url_to_fs(arg)
        if _GLOB.search(path):
            found = sorted(fs.glob(path))
            if not found:
                yield Problem(arg, "no object matches this pattern")
            for match in found:
                yield _object(fs, fs.unstrip_protocol(match), match)
            return
        if not fs.isdir(path):
            if not fs.exists(path):
                yield Problem(arg, "no such object")
                return
            yield _object(fs, arg, path)
            return
        below = sorted(p for p in fs.find(path) if is_event_file(Path(p)) and not _skipped(p[len(path) :]))
        for match in below:
            yield _object(fs, fs.unstrip_protocol(match), match)
    except ImportError as exc:  # the store's own package (s3fs, gcsfs, adlfs...) is missing
        yield Problem(arg, f"cannot read: {exc}")
    except Exception as exc:  # unknown scheme, no access, no network...
        yield Problem(arg, f"cannot read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def _object(fs: Any, url: str, path: str) -> Source:
    """The source of one object: a `file://` URL is the local file (read as one, by its path:
    large NDJSON logs in parallel, never an output), named by its URL."""
    local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    return Source(url, Path(path), None) if local else Source(url, None, url)


def _skipped(relative: str) -> bool:
    """Below a URL prefix, what a local walk skips: hidden entries and tool configuration."""
    *folders, name = relative.strip("/").split("/")
    return (
        any(part.startswith(".") or TOOL_FOLDERS.fullmatch(part) for part in folders)
        or name.startswith(".")
        or TOOL_FILES.fullmatch(name) is not None
    )


# --- lines, bounded ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dropped:
    """A line that was not kept: longer than the limit, or (`binary`) NUL bytes in its first
    `BINARY_AFTER` bytes and more without a line end."""

    binary: bool = False


@dataclass(frozen=True, slots=True)
class Restart:
    """A followed file was truncated or replaced: what comes next is its line 1."""

    reason: str


Line = bytes | Dropped | Restart


class ReadFailed(Exception):
    """The stream itself broke (truncated gzip, an I/O error): nothing more can be read from it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_BLANK_LINES = re.compile(rb"[ \t\r\n]*\n")  # one repeated class: a C loop, no backtracking stack


class Splitter:
    """Cuts blocks of bytes into lines (each with its b"\\n"), never holding more than `limit`
    bytes of an unfinished one. Blank lines in a row come out as one item."""

    __slots__ = ("dropping", "held", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held: list[bytes] = []  # the start of a line that goes on in the next block
        self.size = 0
        self.dropping = False  # inside a dropped line: skip to its end

    def feed(self, block: bytes) -> Iterator[bytes | Dropped]:
        pos, end = 0, len(block)
        while pos < end:
            newline = block.find(b"\n", pos)
            if self.dropping:
                if newline < 0:
                    return
                self.dropping, pos = False, newline + 1
                continue
            if self.held:
                if newline < 0:
                    yield from self._hold(block[pos:])
                    return
                self.held.append(block[pos : newline + 1])
                line, self.held, self.size = b"".join(self.held), [], 0
                pos = newline + 1
                yield line if len(line) <= self.limit else Dropped()
                continue
            if newline < 0:
                yield from self._hold(block[pos:])
                return
            line = block[pos : newline + 1]
            if line.isspace():  # blank: take every blank line that follows at once
                blank = _BLANK_LINES.match(block, pos)
                line = blank.group() if blank is not None else line
            pos += len(line)
            yield line if len(line) <= self.limit else Dropped()

    def _hold(self, piece: bytes) -> Iterator[Dropped]:
        self.size += len(piece)
        binary = self.size > BINARY_AFTER and b"\x00" in piece  # e.g. /dev/zero: no line end, ever
        if self.size > self.limit or binary:
            self.held, self.size, self.dropping = [], 0, True
            yield Dropped(binary)
            return
        self.held.append(piece)

    def end(self) -> Iterator[bytes]:
        """The last line, if it has no line end."""
        if self.held:
            line, self.held, self.size = b"".join(self.held), [], 0
            yield line
        self.dropping = False


def lines(stream: BinaryIO, limit: int) -> Iterator[bytes | Dropped]:
    """The stream's lines, as they arrive (a pipe is read as its writer writes), bounded."""
    splitter = Splitter(limit)
    read = getattr(stream, "read1", stream.read)
    try:
        while True:
            block = read(BLOCK)
            if not block:
                break
            yield from splitter.feed(block)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ReadFailed("truncated or corrupt gzip data") from exc
    except OSError as exc:
        raise ReadFailed(f"read error: {exc.strerror or exc}") from exc
    yield from splitter.end()
