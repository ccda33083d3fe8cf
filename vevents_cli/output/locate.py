"""Where a JSON pointer lands in the text a value was read from: line and column.

A validation error names a member by its RFC 6901 pointer (`/data/voucher/code`); people
and CI annotations want the line of that member in the file. `position` walks the raw
JSON text along the pointer (one pass over the text first finds where each of its strings
and containers ends, so a sibling value is skipped in one look-up) and returns where the
member's key starts (an
array element's value, for an index; the value itself, for the root). A pointer that
goes further than the text (a missing required member) lands on the deepest member that
exists: the parent object. Duplicate keys resolve to the last one, as JSON parsers do.

Pure functions over bytes; run only for invalid events (see `output.validate`), so valid
events cost nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import orjson

from vevents_cli.model import Record

_WS = re.compile(rb"[ \t\r\n]*")
_SCALAR = re.compile(rb"[^\s,:\]\}]*")
_TOKEN = re.compile(rb'[{}\[\]]|"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # a bracket, or a whole string
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OPEN = frozenset(b"{[")
_AFTER_VALUE = "unexpected content after document"  # orjson's message for a value followed by more


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line (relative to the text's first line) and 1-based column (in characters)."""

    line: int
    column: int


_SPACE = frozenset(b" \t\r\n")


def _ws(raw: bytes, pos: int) -> int:
    if pos < len(raw) and raw[pos] not in _SPACE:  # compact JSON: nothing to skip
        return pos
    return _WS.match(raw, pos).end()  # type: ignore[union-attr]


class _Text:
    """A JSON text, walked member by member: a sibling value is skipped by orjson (ASCII text,
    where its character positions are byte offsets), else by one pass that finds where each
    string and container of the text ends."""

    __slots__ = ("_ends", "raw", "view")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.view = memoryview(raw) if raw.isascii() else None
        self._ends: dict[int, int] | None = None

    def ends(self) -> dict[int, int]:
        """Where each string and container of the text that starts at a position ends."""
        if self._ends is None:
            spans = [m.span() for m in _TOKEN.finditer(self.raw)]
            ends = dict(spans)  # a string's end; a container's is set below
            opened: list[int] = []
            for start, end in spans:
                if end - start == 1:  # a bracket (a string is at least `""`)
                    if self.raw[start] in _OPEN:
                        opened.append(start)
                    else:
                        ends[opened.pop()] = end
            self._ends = ends
        return self._ends

    def string_end(self, pos: int) -> int:
        return _STRING.match(self.raw, pos).end()  # type: ignore[union-attr]

    def skip(self, pos: int) -> int:
        """The end of the JSON value that starts at `pos` (or past the whitespace after it)."""
        first = self.raw[pos]
        if first == 0x22:  # "
            return self.string_end(pos)
        if first not in _OPEN:
            return _SCALAR.match(self.raw, pos).end()  # type: ignore[union-attr]
        if self.view is not None:
            try:
                orjson.loads(self.view[pos:])  # a value followed by more: orjson says where it ends
            except orjson.JSONDecodeError as exc:
                if exc.msg == _AFTER_VALUE:
                    return pos + exc.pos
        return self.ends()[pos]

    def member(self, pos: int, name: str) -> tuple[int, int] | None:
        """(key start, value start) of the last member `name` of the object opening at `pos`."""
        raw = self.raw
        found = None
        wanted = _quoted(name)
        pos = _ws(raw, pos + 1)
        while raw[pos] != 0x7D:  # }
            start = pos
            end = self.string_end(pos)
            key = raw[start:end]
            pos = _ws(raw, _ws(raw, end) + 1)  # past the colon
            if (_key(key) == name) if b"\\" in key else (key == wanted):  # bytes compared unless escaped
                found = (start, pos)
            pos = _ws(raw, self.skip(pos))
            if raw[pos] == 0x2C:  # ,
                pos = _ws(raw, pos + 1)
        return found

    def element(self, pos: int, token: str) -> int | None:
        """The start of element `token` (a decimal index) of the array opening at `pos`."""
        if not (token.isascii() and token.isdigit()) or (len(token) > 1 and token[0] == "0"):
            return None
        raw = self.raw
        wanted, index = int(token), 0
        pos = _ws(raw, pos + 1)
        while raw[pos] != 0x5D:  # ]
            if index == wanted:
                return pos
            pos = _ws(raw, self.skip(pos))
            if raw[pos] == 0x2C:
                pos = _ws(raw, pos + 1)
            index += 1
        return None


@functools.lru_cache(maxsize=1)  # an invalid event's errors are located one after another
def _text(raw: bytes) -> _Text:
    return _Text(raw)


@functools.lru_cache(maxsize=256)
def _quoted(name: str) -> bytes:
    """`name` as a JSON key written without escapes (what a key with no backslash is compared to)."""
    return b'"' + name.encode("utf-8", "surrogatepass") + b'"'


def _key(text: bytes) -> str:
    """A JSON string's value (escapes decoded only where there are some)."""
    return orjson.loads(text) if b"\\" in text else text[1:-1].decode("utf-8", "replace")


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def offset(raw: bytes, pointer: str) -> int | None:
    """Byte offset of the member `pointer` names (or of its deepest existing ancestor);
    None when `raw` is not the JSON text the pointer was made for."""
    try:
        text = _text(raw)
        pos = _ws(raw, 0)
        at = pos
        for token in _tokens(pointer):
            first = raw[pos]
            if first == 0x7B:  # {
                member = text.member(pos, token)
                if member is None:
                    break
                at, pos = member
            elif first == 0x5B:  # [
                element = text.element(pos, token)
                if element is None:
                    break
                at = pos = element
            else:
                break
        return at
    except (IndexError, KeyError, AttributeError, ValueError, orjson.JSONDecodeError):
        return None


def position(raw: bytes, pointer: str) -> Position | None:
    """Line and column (1-based, relative to `raw`) of the member `pointer` names."""
    at = offset(raw, pointer)
    if at is None:
        return None
    line_start = raw.rfind(b"\n", 0, at) + 1
    return Position(raw.count(b"\n", 0, at) + 1, len(raw[line_start:at].decode("utf-8", "replace")) + 1)


def in_source(record: Record, pointer: str) -> tuple[int, int | None]:
    """Line and column in the record's source of the member `pointer` names.

    A record's text starts at the first column of its first line (a one-line record, NDJSON
    or compact JSON, is its whole line), or `offset` characters in (a value after another on
    one line); an array member's starts after its indentation or the members before it on
    the line: on that line the column is not known.
    HTTP captures (records with headers) only have the request's line.
    """
    line = record.locator.line
    if record.headers is not None or line < 1:
        return line, None
    found = position(record.raw, pointer)
    if found is None:
        return line, None
    if found.line > 1:
        column: int | None = found.column
    else:
        column = found.column + record.offset if record.locator.index is None else None
    return line + found.line - 1, column
