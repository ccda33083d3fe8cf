"""Records: cut a source's bytes into JSON values, each with its locator.

A source may hold one JSON value, a JSON array of events, NDJSON (one value per line,
streamed: memory stays flat), or several pretty-printed values one after another. Each
value becomes a `Record` (raw bytes, parsed value, locator); anything that cannot be read
becomes an `Unreadable` naming the source and position, and reading goes on.

Recovery at line edges. A source is known to be NDJSON by its name (`.ndjson`, `.jsonl`),
once a line holds a whole JSON object, or once a cut line was found. In an NDJSON source
a line that ends mid-value is one unreadable item at its line, and reading resumes at the
next line. Elsewhere such a line starts a multi-line (pretty) value, read until its
brackets balance -- unless the next line starts a new object (`{` at column 0) while the
pending value is an object: then the pending line was cut, and is reported alone.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from vevents_cli.model import Locator, Record, Unreadable
from vevents_cli.pipeline import captures
from vevents_cli.pipeline.sources import Problem, Source

BOM = b"\xef\xbb\xbf"
MAX_VALUE_BYTES = 256 * 1024 * 1024  # one pretty-printed value larger than this is refused
CUT_LINE = "truncated JSON: this line ends mid-value"
GIVE_UP_AFTER = 20  # unreadable lines in a row, before any record, before a source is dropped
SAVED_DELIVERY_KEYS = frozenset(("received_at", "method", "headers", "body"))  # `listen --save`

_TOKEN = re.compile(rb'["{}\[\]]')
_STRING_TAIL = re.compile(rb'(?:[^"\\]|\\.)*"', re.S)
_REQUEST_LINE = re.compile(rb"^(?:POST|PUT|PATCH|GET|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]\r?\n?$")
_NON_FINITE = re.compile(rb"-?(?:NaN|Infinity)")


Item = Record | Unreadable


class ReadError(Exception):
    """Raised by a line reader when the stream itself breaks (truncated gzip, I/O error)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def read_all(sources: Iterable[Source | Problem]) -> Iterator[Item]:
    """Every record of every source, in order; problems become `Unreadable`s."""
    for source in sources:
        if isinstance(source, Problem):
            yield Unreadable(Locator(source.name, 0), source.reason)
        else:
            yield from read_source(source)


def read_source(source: Source) -> Iterator[Item]:
    try:
        stream = source.open()
    except OSError as exc:
        yield Unreadable(Locator(source.name, 0), f"cannot open: {exc.strerror or exc}")
        return
    try:
        yield from read_lines(source.name, _lines(stream), ndjson=is_ndjson_name(source.name))
    except ReadError as exc:
        yield Unreadable(Locator(source.name, exc.line), exc.reason)
    finally:
        if source.path is not None:
            stream.close()


def _lines(stream: Iterable[bytes]) -> Iterator[bytes]:
    """The stream's lines, turning mid-stream failures into `ReadError`."""
    number = 0
    try:
        for line in stream:
            number += 1
            yield line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ReadError(number + 1, "truncated or corrupt gzip data") from exc
    except OSError as exc:
        raise ReadError(number + 1, f"read error: {exc.strerror or exc}") from exc


def is_ndjson_name(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith((".ndjson", ".jsonl"))


def read_lines(name: str, lines: Iterable[bytes], first_line: int = 1, ndjson: bool = False) -> Iterator[Item]:
    """Cut lines of one source into records (the heart of the reader).

    `ndjson`: the source is known to hold one value per line. `first_line` > 1 reads a
    chunk from the middle of an NDJSON file (see `parallel`), cut just after a line that
    held a whole object: it starts in the state a serial reader has there.
    """
    it = iter(lines)
    reader = _Reader(name)
    reader.number = first_line - 1
    reader.ndjson = ndjson
    if first_line > 1:
        reader.records = 1  # the source has had events before this chunk
    for line in it:
        reader.number += 1
        if reader.number == 1:
            if line.startswith(BOM):
                line = line[len(BOM):]
            if _REQUEST_LINE.match(line):
                yield from captures.read_requests(name, line, it)
                return
        yield from reader.feed(line)
        if reader.gave_up:
            return
    yield from reader.finish()


class _Reader:
    """State of one source's reading: the pending multi-line value, counts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.number = 0
        self.records = 0
        self.errors = 0
        self.ndjson = False
        self.gave_up = False
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.start = 0
        self.scan = _Scan()

    def feed(self, line: bytes) -> Iterator[Item]:
        while True:  # a line may hold values one after another (`cat a.json b.json`): each in turn
            if self.pending:
                yield from self._continue(line)
                return
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                first = _first_of_several(line)
                if first is None:
                    yield from self._not_a_line(line, exc)
                    return
                value, cut = first  # not NDJSON evidence: the line holds more than one value
                yield from self._emit(value, line[:cut].strip(), self.number)
                line = line[cut:].lstrip(b" \t")
                continue
            if isinstance(value, dict):
                self.ndjson = True
            yield from self._emit(value, line.rstrip(b"\r\n"), self.number)
            return

    def _not_a_line(self, line: bytes, exc: orjson.JSONDecodeError) -> Iterator[Item]:
        stripped = line.strip()
        if not stripped:
            return
        if b"\x00" in line:
            self.gave_up = True
            yield Unreadable(Locator(self.name, self.number), "binary data, not JSON text")
            return
        lone = stripped in (b"{", b"[")
        if stripped[:1] in (b"{", b"[") and exc.msg.startswith("unexpected end of data") and (lone or not self.ndjson):
            scan = _Scan()
            if scan.feed(line) is None:
                self.pending, self.pending_size, self.start, self.scan = [line], len(line), self.number, scan
                return
        if self.ndjson and exc.msg.startswith("unexpected end of data"):
            yield from self._failed(Unreadable(Locator(self.name, self.number), CUT_LINE))
            return
        yield from self._error(line, exc, self.number)

    def _continue(self, line: bytes) -> Iterator[Item]:
        if line[:1] == b"{" and self.pending[0].lstrip()[:1] == b"{":
            # A line that starts a new object: the pending object's line was cut short.
            yield Unreadable(Locator(self.name, self.start), CUT_LINE)
            self.pending, self.ndjson = [], True
            yield from self.feed(line)
            return
        self.pending.append(line)
        self.pending_size += len(line)
        end = self.scan.feed(line)
        if end is None:
            if self.pending_size > MAX_VALUE_BYTES:
                self.pending, self.gave_up = [], True
                yield Unreadable(Locator(self.name, self.start), "value larger than 256 MiB, skipped")
            return
        blob = b"".join(self.pending)
        cut = len(blob) - len(line) + end
        head, tail = blob[:cut], blob[cut:]
        self.pending = []
        try:
            value = orjson.loads(head)
        except orjson.JSONDecodeError as exc:
            yield from self._error(head, exc, self.start)
        else:
            yield from self._emit(value, head, self.start)
        if tail.strip():
            yield from self.feed(tail)

    def _emit(self, value: Any, raw: bytes, line: int) -> Iterator[Item]:
        if isinstance(value, dict):
            self.records += 1
            if value.keys() >= SAVED_DELIVERY_KEYS:  # a delivery saved by `vevents listen --save`
                yield captures.saved_delivery(Locator(self.name, line), value)
                return
            yield Record(Locator(self.name, line), raw, value)
        elif isinstance(value, list):
            spans = _member_spans(raw, line) if b"\n" in raw.rstrip() else None
            for index, member in enumerate(value):
                span = spans[index] if spans and index < len(spans) else None
                at = Locator(self.name, span[0] if span else line, index)
                if isinstance(member, dict):
                    self.records += 1
                    # a pretty member keeps its own text (error locations are found in it)
                    yield Record(at, raw[span[1]:span[2]] if span and span[2] else orjson.dumps(member), member)
                else:
                    yield Unreadable(at, f"array member is {_kind(member)}, expected an event object")
            if not value:
                yield Unreadable(Locator(self.name, line), "empty array: no events")
        else:
            yield Unreadable(Locator(self.name, line), f"top-level value is {_kind(value)}, expected a JSON object")

    def _error(self, text: bytes, exc: orjson.JSONDecodeError, first_line: int) -> Iterator[Item]:
        line = first_line + exc.lineno - 1
        yield from self._failed(Unreadable(Locator(self.name, line), _reason(text, exc), exc.colno))

    def _failed(self, item: Unreadable) -> Iterator[Item]:
        """An unreadable value; a source with nothing but these for a while is given up."""
        self.errors += 1
        yield item
        if self.records == 0 and self.errors >= GIVE_UP_AFTER:
            self.gave_up = True
            yield Unreadable(item.locator, f"giving up after {GIVE_UP_AFTER} unreadable values and no event")

    def finish(self) -> Iterator[Item]:
        if self.pending:
            yield Unreadable(Locator(self.name, self.start), "truncated JSON: input ends inside this value")
        elif self.records == 0 and self.errors == 0 and not self.gave_up:
            yield Unreadable(Locator(self.name, max(self.number, 1)), "empty input: no JSON value")


class _Scan:
    """Incremental bracket matcher: finds where a multi-line JSON value ends."""

    __slots__ = ("depth", "in_string")

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False

    def feed(self, chunk: bytes) -> int | None:
        """Offset just past the value's end inside `chunk`, or None if it goes on."""
        pos = 0
        while True:
            if self.in_string:
                m = _STRING_TAIL.match(chunk, pos)
                if m is None:
                    return None
                pos, self.in_string = m.end(), False
                continue
            m = _TOKEN.search(chunk, pos)
            if m is None:
                return None
            pos = m.end()
            token = m.group()
            if token == b'"':
                self.in_string = True
            elif token in (b"{", b"["):
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return pos


def _first_of_several(line: bytes) -> tuple[Any, int] | None:
    """A line's first value and where it ends, when a whole object or array is followed on
    the same line by the start of another (`{..}{..}`, `{..}{` then a pretty value); else None."""
    if line.lstrip()[:1] not in (b"{", b"["):
        return None
    end = _Scan().feed(line)
    if end is None or line[end:].lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        return orjson.loads(line[:end]), end
    except orjson.JSONDecodeError:
        return None


def _member_spans(blob: bytes, first_line: int) -> list[tuple[int, int, int]]:
    """(1-based line, start, end) of each top-level member of a pretty-printed array
    (end 0 while a member has not ended)."""
    spans: list[tuple[int, int, int]] = []
    depth, pos, in_string = 0, 0, False
    while True:
        if in_string:
            m = _STRING_TAIL.match(blob, pos)
            if m is None:
                return spans
            pos, in_string = m.end(), False
            if depth == 1:
                spans[-1] = (*spans[-1][:2], pos)
            continue
        m = _TOKEN.search(blob, pos)
        if m is None:
            return spans
        token, pos = m.group(), m.end()
        if token == b'"':
            in_string = True
            if depth == 1:
                spans.append((first_line + blob.count(b"\n", 0, m.start()), m.start(), 0))
        elif token in (b"{", b"["):
            if depth == 1:
                spans.append((first_line + blob.count(b"\n", 0, m.start()), m.start(), 0))
            depth += 1
        else:
            depth -= 1
            if depth == 1:
                spans[-1] = (*spans[-1][:2], pos)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _reason(text: bytes, exc: orjson.JSONDecodeError) -> str:
    """A short, human reason for a parse failure."""
    msg = exc.msg
    if msg.startswith("unexpected end of data"):
        return "truncated JSON: input ends mid-value"
    if msg.startswith("trailing comma"):
        return "trailing comma is not allowed in JSON"
    if "not valid UTF-8" in msg:
        return "invalid UTF-8 (JSON must be UTF-8 text)"
    if msg.startswith("depth limit exceeded") or "recursion" in msg:
        return "nesting too deep (more than 1024 levels)"
    if _NON_FINITE.match(text, exc.pos):
        return "NaN and Infinity are not valid JSON numbers"
    if msg.startswith("trailing characters"):
        return "unexpected text after the JSON value"
    return f"invalid JSON: {msg}"
