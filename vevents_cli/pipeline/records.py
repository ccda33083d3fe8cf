"""Records: cut a source's lines into JSON values, each with its locator.

A source may hold one JSON value, a JSON array of events, NDJSON (one value per line,
streamed: memory stays flat), or several pretty-printed values one after another. Each
value becomes a `Record` (its own raw bytes, parsed value, locator); anything that cannot
be read becomes an `Unreadable` naming the source and position, and reading goes on. An
array's members are cut from its text and parsed one by one: each record's raw bytes are
its span of the array, a bad member is one unreadable item, memory holds one member.

Recovery at line edges. A source is known to be NDJSON by its name (`.ndjson`, `.jsonl`),
once a line holds a whole JSON object, or once a cut line was found. In an NDJSON source
a line that does not parse is one unreadable item at its line, and reading resumes at the
next line: a cut line never joins the lines after it. Elsewhere a line that starts an
object or array and ends mid-value starts a multi-line (pretty) value, read until its
brackets balance -- unless the next line starts a new object (`{` in column 1) while the
pending value is an object: then the pending line was cut, and is reported alone.

Not JSON at all. A file named on the command line that is not called *.json, *.jsonl or
*.ndjson, whose first line is plainly not JSON (no `{` or `[`: Markdown, YAML, text), is
one unreadable item at that line (`NOT_JSON`), and the source ends there. Invalid UTF-8
is reported at the line and byte column of its first bad byte.

Truncated while read. A file that shrinks while it is read (logrotate's copytruncate) is
read to its new end -- what was read is processed -- and one unreadable item (`TRUNCATED`,
at the file as a whole) says so.

Bounds. No value is held beyond `limit` bytes (`--max-value-size`): a longer line is
dropped as it is read (see `sources.lines`), a longer multi-line value is skipped to its
end; each is one unreadable item. Reading and parsing are linear in the input's size.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from vevents_cli.jsonout import json_type
from vevents_cli.jsonout import loads as exact_loads
from vevents_cli.model import Locator, Note, Read, Record, Unreadable
from vevents_cli.pipeline.config import MAX_VALUE_SIZE, size_text
from vevents_cli.pipeline.sources import (
    STDIN_NAME,
    Dropped,
    Line,
    Problem,
    ReadFailed,
    Restart,
    Source,
    Splitter,
    is_event_file,
    lines,
)
from vevents_cli.webhooks.saved import is_saved_delivery, saved_delivery

BOM = b"\xef\xbb\xbf"
CUT_LINE = "truncated JSON: this line ends mid-value"
GIVE_UP_AFTER = 20  # unreadable lines in a row, before any record, before a source is dropped
BINARY = "binary data, not JSON text"  # the source is given up there
BINARY_LINE = "binary data in this line (NUL bytes): skipped"  # in a log that has given events: the rest is read
GAVE_UP = f"giving up after {GIVE_UP_AFTER} unreadable values and no event"
REST_SKIPPED = "the rest of this source is skipped"
TRUNCATED = "truncated while it was read (the file shrank: rotated with copytruncate?): the rest is not read"
NOT_JSON = "not JSON (its first line is not JSON, and its name is not *.json, *.jsonl or *.ndjson): skipped"

_TOKEN = re.compile(rb'["{}\[\]]')
_STRING_TAIL = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_LINE_STRING = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')  # a whole string on one line
_MEMBER_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.S)
_REQUEST_LINE = re.compile(rb"^(?:POST|PUT|PATCH|GET|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]\r?\n?$")
_NON_FINITE = re.compile(rb"-?(?:NaN|Infinity)")
_WHITESPACE = b" \t\r\n"
_SPACES = re.compile(rb"[ \t\n\r\x0b\x0c]*")  # what bytes.strip() strips
_BLANKS = re.compile(rb"[ \t]*")


def problem(source: Problem) -> Unreadable | Note:
    """The item for a PATH argument or folder entry that is not read."""
    kind = Note if source.note else Unreadable
    return kind(Locator(source.name, 0), source.reason)


def read_source(
    source: Source, limit: int = MAX_VALUE_SIZE, exact: bool = False, arrays_whole: bool = False
) -> Iterator[Read]:
    try:
        stream = source.open()
    except OSError as exc:
        yield Unreadable(Locator(source.name, 0), f"cannot open: {exc.strerror or exc}")
        return
    try:
        ndjson = is_ndjson_name(source.name)
        if source.path is not None and not ndjson:
            whole = _whole_object(source.name, stream, limit, exact)
            if whole is not None:
                yield from whole
                return
        size = file_size(stream)
        yield from read_lines(
            source.name, lines(stream, limit), ndjson=ndjson, limit=limit, exact=exact, arrays_whole=arrays_whole
        )
        if size is not None and shrank(stream, size):
            yield Unreadable(Locator(source.name, 0), TRUNCATED)
    finally:
        if not source.stdin:
            stream.close()


def file_size(stream: Any) -> int | None:
    """The size of a plain regular file being read; None for anything else (gzip, a pipe)."""
    if not isinstance(stream, io.BufferedReader):
        return None
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def shrank(stream: Any, size: int) -> bool:
    """Whether the file read to its end was truncated while it was read: it ended before
    the size it had when it was opened, and is smaller now."""
    try:
        return stream.tell() < size and os.fstat(stream.fileno()).st_size < size
    except (OSError, ValueError):
        return False


ARRAY_BODY = "top-level value is an array, not an event object"
WHOLE_FILE = 1024 * 1024  # a file this small holding one object is read in one go


def _whole_object(name: str, stream: Any, limit: int, exact: bool) -> Iterator[Read] | None:
    """The record of a small regular file that holds one JSON object (a fixture, compact or
    pretty-printed), read in one go -- exactly what `read_lines` makes of it line by line;
    None (the stream rewound) for anything else."""
    if not isinstance(stream, io.BufferedReader):  # gzip, a test's stream...
        return None
    try:
        st = os.fstat(stream.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > min(WHOLE_FILE, limit) or stream.peek(1)[:1] != b"{":
            return None  # (a larger file is not read twice)
    except (OSError, ValueError):
        return None
    data = stream.read(WHOLE_FILE + 1)
    value: Any = None
    if len(data) <= min(WHOLE_FILE, limit):  # (the file may have grown since)
        newline = data.find(b"\n")
        rest = data[newline + 1 :] if newline >= 0 else b""
        if not rest or rest.isspace():  # one line: its bytes without the line end
            raw = data[:newline] if newline >= 0 else data
            raw = raw.rstrip(b"\r\n")
        elif b"\n{" not in data:  # one value over several lines: up to its last `}`
            raw = data.rstrip(b" \t\r\n")
        else:  # a line that starts a new object: the line reader tells what that is
            raw = b""
        if raw:
            try:
                value = (exact_loads if exact else orjson.loads)(raw)
            except orjson.JSONDecodeError:
                value = None
    if not isinstance(value, dict):
        stream.seek(0)
        return None
    return _Reader(name, limit, False, exact)._emit(value, raw, 1)


def ends_source(item: object) -> bool:
    """Whether reading a source stops at this item (binary data, nothing but errors, ...)."""
    return isinstance(item, Unreadable) and item.reason in (BINARY, GAVE_UP, REST_SKIPPED, NOT_JSON)


def is_ndjson_name(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith((".ndjson", ".jsonl"))


def read_lines(
    name: str,
    lines: Iterable[Line],
    first_line: int = 1,
    ndjson: bool = False,
    limit: int = MAX_VALUE_SIZE,
    exact: bool = False,
    arrays_whole: bool = False,
) -> Iterator[Read]:
    """Cut lines of one source into records (the heart of the reader).

    `lines` are a source's lines, each with its line end (a run of blank lines may come as
    one item), or markers from `sources`: `Dropped` (a line too long to hold) and
    `Restart` (a followed file truncated or replaced). `ndjson`: the source is known to
    hold one value per line. `first_line` > 1 reads a chunk from the middle of an NDJSON
    file (see `parallel`), cut just after a line that held a whole object: it starts in
    the state a serial reader has there. `exact`: integers beyond 64 bits are read exactly
    (see `exact`; for commands that write payloads back), else as orjson reads them (floats).
    `arrays_whole`: a top-level array is one body, its bytes kept whole (an `Unreadable` with
    `raw`: `verify` checks the signature of the bytes as signed), not its members.
    """
    it = iter(lines)
    reader = _Reader(name, limit, ndjson, exact, arrays_whole)
    reader.number = first_line - 1
    if first_line > 1:
        reader.records = 1  # the source has had events before this chunk
    try:
        for line in it:
            if line.__class__ is not bytes:
                yield from reader.mark(line)  # type: ignore[arg-type]
            else:
                reader.number += 1
                if line.isspace():  # blank lines: nothing to read
                    if reader.pending:
                        yield from reader.feed(line)
                    reader.number += max(line.count(b"\n") - 1, 0)
                    continue
                if reader.number == 1:
                    if line.startswith(BOM):
                        line = line[len(BOM) :]
                    if _REQUEST_LINE.match(line):
                        from vevents_cli.pipeline import captures  # (captured HTTP requests only)

                        yield from captures.read_requests(name, line, it, limit, exact)
                        return
                yield from reader.feed(line)
            if reader.gave_up:
                return
    except ReadFailed as exc:
        yield from reader.unfinished()
        yield Unreadable(Locator(name, reader.number + 1), exc.reason)
        return
    yield from reader.finish()


def read_chunk(
    name: str,
    data: bytes,
    first_line: int,
    limit: int = MAX_VALUE_SIZE,
    exact: bool = False,
    arrays_whole: bool = False,
) -> Iterator[Read]:
    """`read_lines` of a chunk of an NDJSON file (see `parallel`), with a fast path.

    While lines are plain one-line objects (the rule of a log), each is read here straight
    into its record, exactly as `read_lines` would; from the first line that is anything
    else, the rest of the chunk goes through `read_lines` in the state it would have there.
    Line 1 of a file (a byte-order mark, a captured request) always takes `read_lines`.
    """
    loads = exact_loads if exact else orjson.loads
    number, pos, size = first_line - 1, 0, len(data)
    if first_line > 1:
        while pos < size:
            newline = data.find(b"\n", pos)
            end = size if newline < 0 else newline
            if data[pos : pos + 1] != b"{" or end - pos >= limit:
                break
            line = data[pos:end]
            try:
                value = loads(line)
            except orjson.JSONDecodeError:
                break
            if value.__class__ is not dict or is_saved_delivery(value):
                break
            number += 1
            yield Record(Locator(name, number), line.rstrip(b"\r"), value)
            pos = end + 1
    if pos < size:
        splitter = Splitter(limit)
        rest = itertools.chain(splitter.feed(data[pos:]), splitter.end())
        yield from read_lines(
            name, rest, first_line=number + 1, ndjson=True, limit=limit, exact=exact, arrays_whole=arrays_whole
        )


class _Reader:
    """State of one source's reading: the pending multi-line value, counts."""

    def __init__(self, name: str, limit: int, ndjson: bool, exact: bool, arrays_whole: bool = False) -> None:
        self.name = name
        self.arrays_whole = arrays_whole
        self.limit = limit
        self.exact = exact
        self.loads = exact_loads if exact else orjson.loads
        self.ndjson = ndjson
        # a file named on the command line that is not called *.json, *.jsonl or *.ndjson (README.md,
        # config.yaml): when its first line is plainly not JSON, it is not read any further
        self.text_file = name != STDIN_NAME and not is_event_file(Path(name))
        self.number = 0
        self.records = 0
        self.errors = 0
        self.gave_up = False
        self.pending = bytearray()  # the lines of a multi-line value so far
        self.pending_size = 0
        self.pending_object = False  # the pending value is an object (a `{` line may show it was cut)
        self.skipping = False  # inside a value too large to hold: scanning for its end
        self.start = 0
        self.scan = _Scan()

    def feed(self, line: bytes, offset: int = 0) -> Iterator[Read]:
        """Read one line (or what is left of it, `offset` characters in).

        A line may hold values one after another (`cat a.json b.json` of compact files): while
        a whole object or array is followed on the line by the start of another, that value is
        read on its own and reading goes on after it, from an index into the line (never a
        copy of the rest, never a parse of the rest: linear in the line's length)."""
        if self.pending or self.skipping:
            yield from self._continue(line)
            return
        if line[:1] != b"[" and line.lstrip()[:1] != b"[":  # the common case first: one whole value
            try:
                value = self.loads(line)
            except orjson.JSONDecodeError:
                pass  # several values, or the start of a multi-line one, or an error: below
            else:
                yield from self._line_value(value, line, offset)
                return
        pos = 0
        while (end := _first_of_several(line, pos)) is not None:
            try:
                value = orjson.loads(line[pos:end])
            except orjson.JSONDecodeError:
                break  # the rest of the line is read as one value, and reported as that
            piece = line[pos:end]
            lead = len(piece) - len(piece.lstrip())
            yield from self._emit(value, piece.strip(), self.number, offset + _chars(piece[:lead]))
            after = _BLANKS.match(line, end).end()  # type: ignore[union-attr]
            offset += _chars(piece) + after - end
            pos = after
        yield from self._one(line[pos:] if pos else line, offset)

    def _one(self, line: bytes, offset: int) -> Iterator[Read]:
        """Read what is left of a line as one value (or the start of a multi-line one)."""
        if line[:1] == b"[" or line.lstrip()[:1] == b"[":  # an array on one line: members parsed one by one
            end = _Scan().feed(line)
            if end is not None and not line[end:].strip():
                yield from self._array(line.rstrip(b"\r\n"), self.number)
                return
        try:
            value = self.loads(line)
        except orjson.JSONDecodeError as exc:
            yield from self._not_a_line(line, exc)
            return
        yield from self._line_value(value, line, offset)

    def _line_value(self, value: Any, line: bytes, offset: int) -> Iterator[Read]:
        """A line that is one whole value (an object on its own line: NDJSON evidence)."""
        if isinstance(value, dict):
            self.ndjson = True
        yield from self._emit(value, line.rstrip(b"\r\n"), self.number, offset)

    def mark(self, mark: Dropped | Restart) -> Iterator[Read]:
        """A line that was not kept (too long, binary), or a followed file starting again."""
        if isinstance(mark, Restart):
            yield from self.unfinished()
            self.number = 0
            yield Note(Locator(self.name, 0), mark.reason)
            return
        self.number += 1
        if mark.binary:
            yield from self._binary()
            return
        if self.pending or self.skipping:  # the dropped line was inside a multi-line value
            if not self.skipping:
                yield from self._failed(Unreadable(Locator(self.name, self.start), self._too_large("value")))
            self._reset()
            if not self.ndjson:  # its brackets are lost with the line: where it ends cannot be told
                self.gave_up = True
                yield Unreadable(Locator(self.name, self.number), REST_SKIPPED)
            return
        yield from self._failed(Unreadable(Locator(self.name, self.number), self._too_large("line")))

    def _binary(self) -> Iterator[Read]:
        """NUL bytes in this line. In an NDJSON log that has given events, one unreadable line (a
        crash can leave a block of them) and reading goes on; anywhere else the source is not
        text (an image, /dev/zero): it is given up."""
        if self.ndjson and self.records:
            yield from self._failed(Unreadable(Locator(self.name, self.number), BINARY_LINE))
            return
        self.gave_up = True
        yield Unreadable(Locator(self.name, self.number), BINARY)

    def _too_large(self, what: str) -> str:
        size = size_text(self.limit)
        return f"{what} {'longer' if what == 'line' else 'larger'} than {size} (--max-value-size): skipped"

    def _reset(self) -> None:
        self.pending, self.pending_size, self.skipping = bytearray(), 0, False

    def _not_a_line(self, line: bytes, exc: orjson.JSONDecodeError) -> Iterator[Read]:
        stripped = line.strip()
        if not stripped:
            return
        if b"\x00" in line:
            yield from self._binary()
            return
        truncated = exc.msg.startswith("unexpected end of data") or (  # cut inside a string: at its line end
            exc.msg.startswith("unexpected control character") and exc.pos >= len(line.rstrip(b"\r\n"))
        )
        lone = stripped in (b"{", b"[")
        if stripped[:1] in (b"{", b"[") and truncated and (lone or not self.ndjson):
            scan = _Scan()
            if scan.feed(line) is None:
                self.pending, self.pending_size, self.start, self.scan = bytearray(line), len(line), self.number, scan
                self.pending_object = stripped[:1] == b"{"
                return
        if self.ndjson and truncated:
            yield from self._failed(Unreadable(Locator(self.name, self.number), CUT_LINE))
            return
        if self.text_file and self.records == 0 and self.errors == 0 and stripped[:1] not in (b"{", b"["):
            self.gave_up = True
            yield Unreadable(Locator(self.name, self.number), NOT_JSON, raw=line.rstrip(b"\r\n"))
            return
        yield from self._error(line.rstrip(b"\r\n"), exc, self.number)

    def _continue(self, line: bytes) -> Iterator[Read]:
        if self.pending_object and line[:1] == b"{":
            # A line that starts a new object: the pending object's line was cut short.
            if not self.skipping:
                yield from self._failed(Unreadable(Locator(self.name, self.start), CUT_LINE))
            self._reset()
            self.ndjson = True
            yield from self.feed(line)
            return
        if b"\x00" in line:  # as a line of its own would: not text, the source ends here
            self._reset()
            self.gave_up = True
            yield Unreadable(Locator(self.name, self.number), BINARY)
            return
        end = self.scan.feed(line)
        if not self.skipping:
            self.pending += line
            self.pending_size += len(line)
            if self.pending_size > self.limit:
                self.pending, self.pending_size, self.skipping = bytearray(), 0, True
                yield from self._failed(Unreadable(Locator(self.name, self.start), self._too_large("value")))
        if end is None:
            return
        if self.skipping:  # the end of a value too large to hold
            self.skipping = False
            tail = line[end:]
        else:
            blob = bytes(self.pending)
            cut = len(blob) - len(line) + end
            head, tail = blob[:cut], line[end:]
            self.pending, self.pending_size = bytearray(), 0
            if not self.pending_object:
                yield from self._array(head, self.start)
            else:
                try:
                    value = self.loads(head)
                except orjson.JSONDecodeError as exc:
                    yield from self._error(head, exc, self.start)
                else:
                    yield from self._emit(value, head, self.start)
        if tail.strip():
            yield from self.feed(tail, _chars(line[:end]))

    def _emit(self, value: Any, raw: bytes, line: int, offset: int = 0) -> Iterator[Read]:
        if isinstance(value, dict):
            self.records += 1
            if is_saved_delivery(value):  # a delivery saved by `vevents listen --save`
                yield saved_delivery(Locator(self.name, line), value, self.exact)
                return
            yield Record(Locator(self.name, line), raw, value, offset=offset)
        elif isinstance(value, list):
            yield from self._array(raw, line)
        else:
            reason = f"top-level value is {_kind(value)}, expected a JSON object"
            yield from self._failed(Unreadable(Locator(self.name, line), reason, raw=raw))

    def _array(self, raw: bytes, line: int) -> Iterator[Read]:
        """The members of the array `raw` (whole: its brackets balance), each parsed on its own:
        memory holds one member's objects at a time, and a bad member costs only itself.
        With `arrays_whole`, the array is one body instead: its bytes, as they were read."""
        if self.arrays_whole:
            self.records += 1  # (a body read whole: the source is not unreadable for it)
            yield Unreadable(Locator(self.name, line), ARRAY_BODY, raw=raw)
            return
        index = 0
        for span, at_line, closing in _members(raw, line):
            if not span:
                reason = "trailing comma is not allowed in JSON" if closing else "invalid JSON: a comma with no value"
                self.errors += 1
                yield Unreadable(Locator(self.name, at_line), reason)
                continue
            at = Locator(self.name, at_line, index)
            index += 1
            try:
                member = self.loads(span)
            except orjson.JSONDecodeError as exc:
                self.errors += 1
                lines, column = _position(span, exc)
                where = Locator(self.name, at_line + lines, at.index)
                yield Unreadable(where, _reason(span, exc), column if lines or exc.lineno > 1 else None, raw=span)
                continue
            if isinstance(member, dict):
                self.records += 1
                yield Record(at, span, member)
            else:
                self.errors += 1
                yield Unreadable(at, f"array member is {_kind(member)}, expected an event object", raw=span)
        if index == 0 and self.errors == 0:
            yield from self._failed(Unreadable(Locator(self.name, line), "empty array: no events", raw=raw))

    def _error(self, text: bytes, exc: orjson.JSONDecodeError, first_line: int) -> Iterator[Read]:
        lines, column = _position(text, exc)
        where = Locator(self.name, first_line + lines)
        yield from self._failed(Unreadable(where, _reason(text, exc), column, raw=text))

    def _failed(self, item: Unreadable) -> Iterator[Read]:
        """An unreadable value; a source with nothing but these for a while is given up."""
        self.errors += 1
        yield item
        if self.records == 0 and self.errors >= GIVE_UP_AFTER:
            self.gave_up = True
            yield Unreadable(item.locator, GAVE_UP)

    def unfinished(self) -> Iterator[Read]:
        """The pending value, if any, as input that ends inside it."""
        if self.pending:
            self.errors += 1
            yield Unreadable(Locator(self.name, self.start), "truncated JSON: input ends inside this value")
        self._reset()

    def finish(self) -> Iterator[Read]:
        if self.pending:
            yield from self.unfinished()
        elif self.records == 0 and self.errors == 0 and not self.gave_up and not self.skipping:
            yield Unreadable(Locator(self.name, max(self.number, 1)), "empty input: no JSON value")


class _Scan:
    """Incremental bracket matcher: finds where a multi-line JSON value ends.

    A line that cannot close the value (fewer closing brackets than the depth) is only
    counted (strings removed, brackets counted: C speed); the others are walked token
    by token to find the exact end.
    """

    __slots__ = ("depth", "in_string")

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False

    def feed(self, chunk: bytes) -> int | None:
        """Offset just past the value's end inside `chunk`, or None if it goes on."""
        if not self.in_string:
            counts = _brackets(chunk)
            if counts is not None and self.depth - counts[1] > 0:
                self.depth += counts[0] - counts[1]
                return None
        return self.walk(chunk, 0)

    def walk(self, chunk: bytes, pos: int) -> int | None:
        """`feed` from `pos` in `chunk`, token by token: only as far as the value's end."""
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


def _first_of_several(line: bytes, pos: int = 0) -> int | None:
    """Where the first value of `line[pos:]` ends, when it is a whole object or array followed
    on the same line by the start of another (`{..}{..}`, `{..}{` then a pretty value); else
    None. Costs the length of that value (and the blanks around it), not of the line."""
    start = _SPACES.match(line, pos).end()  # type: ignore[union-attr]
    if line[start : start + 1] not in (b"{", b"["):
        return None
    end = _Scan().walk(line, start)
    if end is None:
        return None
    after = _SPACES.match(line, end).end()  # type: ignore[union-attr]
    return end if line[after : after + 1] in (b"{", b"[") else None


def _brackets(line: bytes) -> tuple[int, int] | None:
    """(opening, closing) brackets outside strings; None if a string does not end on this line."""
    if b"{" not in line and b"}" not in line and b"[" not in line and b"]" not in line:
        return 0, 0  # most lines of a pretty value: `"key": "value",`
    if b'"' in line:
        line = _LINE_STRING.sub(b"", line)
        if b'"' in line:
            return None
    return line.count(b"{") + line.count(b"["), line.count(b"}") + line.count(b"]")


def _members(raw: bytes, first_line: int) -> Iterator[tuple[bytes, int, bool]]:
    """Each top-level member of the JSON array `raw`: its own bytes (b"" where a comma has no
    value before it), its 1-based line, and whether the array's closing bracket ends it.

    Linear: a line that stays two levels deep or more is only counted (see `_brackets`),
    the others are walked token by token; newlines are counted once, member to member.
    """
    depth, start, line, counted, pos, after_comma = 0, 0, first_line, 0, 0, False
    size = len(raw)
    while pos <= size:
        end = raw.find(b"\n", pos)
        end = size if end < 0 else end
        counts = _brackets(raw[pos:end])
        if counts is not None and depth - counts[1] >= 2:  # no member starts or ends here
            depth += counts[0] - counts[1]
            pos = end + 1
            continue
        for m in _MEMBER_TOKEN.finditer(raw, pos, end):
            token = raw[m.start()]
            if token == 0x22:  # a string
                continue
            if token in (0x5B, 0x7B):  # [ {
                depth += 1
                if depth == 1:
                    start = m.end()
                continue
            if token == 0x2C:  # ,
                if depth != 1:
                    continue
            else:  # ] }
                depth -= 1
                if depth != 0:
                    continue
            piece = raw[start : m.start()]
            member = piece.strip(_WHITESPACE)
            closing = token != 0x2C
            if member or after_comma or not closing:
                at = start + len(piece) - len(piece.lstrip(_WHITESPACE)) if member else m.start()
                line += raw.count(b"\n", counted, at)
                counted = at
                yield member, line, closing
            if closing:
                return
            start, after_comma = m.end(), True
        pos = end + 1


def _chars(text: bytes) -> int:
    """How many characters `text` is on screen (a column count)."""
    return len(text.decode("utf-8", "replace"))


def _kind(value: Any) -> str:
    """A value's JSON type as a sentence says it: `null`, `a number`, `an object`..."""
    name = json_type(value, integer=False)
    return name if value is None else ("an " if name[0] in "aeiou" else "a ") + name


def _position(text: bytes, exc: orjson.JSONDecodeError) -> tuple[int, int]:
    """Where in `text` parsing failed: lines after its first, and the column (1-based). Invalid
    UTF-8 is placed at its first bad byte (column in bytes), which orjson does not report."""
    if "not valid UTF-8" not in exc.msg:
        return exc.lineno - 1, exc.colno
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as bad:
        start = text.rfind(b"\n", 0, bad.start) + 1
        return text.count(b"\n", 0, bad.start), bad.start - start + 1
    return exc.lineno - 1, exc.colno


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
    if msg.startswith(("trailing characters", "unexpected content after document")):
        return "unexpected text after the JSON value"
    return f"invalid JSON: {msg}"
