"""Deliveries as input: captured HTTP requests, records saved by `vevents listen --save`.

A capture is a raw HTTP/1.1 request dump — request line, headers, a blank line, the body —
with CRLF or LF line ends; several requests may follow one another in one file. The body
is `Content-Length` bytes, or chunks (`Transfer-Encoding: chunked`, decoded), or else runs
to the next request line (or the end of the file) without the line breaks before it.

Each request becomes a `Record` whose `raw` is the body exactly as received (what the
signature covers), `value` the parsed JSON body and `headers` a case-insensitive mapping;
a request that cannot be read becomes an `Unreadable` at the line where it starts (one
whose body is not a JSON object keeps that body and its headers, for `verify`). Headers
and bodies are bounded by `--max-value-size`; reading is linear in the capture's size.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from vevents_cli.jsonout import loads as exact_loads
from vevents_cli.model import Locator, Record, Unreadable
from vevents_cli.pipeline.config import MAX_VALUE_SIZE, size_text
from vevents_cli.pipeline.sources import Dropped, Line, ReadFailed, Restart

Item = Record | Unreadable

_REQUEST_LINE = re.compile(rb"^[A-Z]+ \S+ HTTP/1\.[01]\r?\n?$")
_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*\r?\n?$")
_CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n$")
_EOL = re.compile(rb"\r?\n$")
_DIGITS = re.compile(r"[0-9]+")


class Headers(Mapping[str, str]):
    """HTTP headers: looked up case-insensitively, listed with the names as received.

    A header sent twice keeps both values, joined with ", " (RFC 9110 field combining).
    """

    __slots__ = ("_items",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in self._items:
                first, old = self._items[key]
                self._items[key] = (first, f"{old}, {value}")
            else:
                self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


# --- captured HTTP requests -------------------------------------------------------------------


class _Bytes:
    """A line iterator read as a byte stream, counting the lines consumed (1-based).

    Bytes not yet consumed sit in one buffer from `pos` on; consumed bytes are dropped
    once they are most of it, so reading is linear however large a body is. A line the
    reader dropped (longer than the limit) reads as an empty line and sets `lost`; a
    stream that broke ends the input and sets `failed`.
    """

    def __init__(self, first_line: bytes, lines: Iterable[Line]) -> None:
        self.buffer = bytearray(first_line)
        self.pos = 0
        self.lines = iter(lines)
        self.line = 1  # the line the next byte is on
        self.lost = False
        self.failed: str | None = None

    def _fill(self) -> bool:
        try:
            for more in self.lines:
                if isinstance(more, Restart):
                    continue
                if self.pos > 65536 and self.pos * 2 > len(self.buffer):
                    del self.buffer[: self.pos]
                    self.pos = 0
                if isinstance(more, Dropped):
                    self.lost = True
                    more = b"\n"
                self.buffer += more
                return True
        except ReadFailed as exc:
            self.failed = exc.reason
        return False

    def _take(self, n: int) -> bytes:
        out = bytes(self.buffer[self.pos : self.pos + n])
        self.pos += len(out)
        self.line += out.count(b"\n")
        return out

    def _line_end(self) -> int:
        """Offset just past the next line end (or the end of input)."""
        scanned = self.pos
        while True:
            end = self.buffer.find(b"\n", scanned)
            if end >= 0:
                return end + 1
            unread = len(self.buffer) - self.pos  # `_fill` may move the unread bytes to the front
            if not self._fill():
                return len(self.buffer)
            scanned = self.pos + unread

    def readline(self) -> bytes:
        """The next line with its line end; b"" at the end of input."""
        end = self._line_end()  # first: it may move `pos`
        return self._take(end - self.pos)

    def read(self, n: int) -> bytes:
        """Up to `n` bytes (fewer only at the end of input)."""
        while len(self.buffer) - self.pos < n and self._fill():
            pass
        return self._take(n)

    def peek_line(self) -> bytes:
        end = self._line_end()  # first: it may move `pos`
        return bytes(self.buffer[self.pos : end])


class _BadRequest(Exception):
    pass


def read_requests(
    name: str, first_line: bytes, lines: Iterable[Line], limit: int = MAX_VALUE_SIZE, exact: bool = False
) -> Iterator[Item]:
    """Every request of a capture, as records (or unreadables), in order."""
    stream = _Bytes(first_line, lines)
    while True:
        line = stream.peek_line()
        if not line:
            if stream.failed is not None:
                yield Unreadable(Locator(name, stream.line), stream.failed)
            return
        if not line.strip():
            stream.readline()
            continue
        start = stream.line
        if not _REQUEST_LINE.match(line):
            stream.readline()
            yield Unreadable(Locator(name, start), "expected an HTTP request line (METHOD /path HTTP/1.1)")
            _skip_to_request(stream)
            continue
        stream.readline()
        stream.lost = False
        try:
            headers = _headers(stream, limit)
            body = _body(stream, headers, limit)
            if stream.lost:
                raise _BadRequest(f"a line of this request is longer than {size_text(limit)} (--max-value-size)")
        except _BadRequest as exc:
            yield Unreadable(Locator(name, start), str(exc))
            _skip_to_request(stream)
            continue
        yield request_record(Locator(name, start), headers, body, exact)


def _skip_to_request(stream: _Bytes) -> None:
    while True:
        line = stream.peek_line()
        if not line or _REQUEST_LINE.match(line):
            return
        stream.readline()


def _headers(stream: _Bytes, limit: int) -> Headers:
    pairs: list[tuple[str, str]] = []
    size = 0
    while True:
        line = stream.readline()
        if not line:
            raise _BadRequest("truncated request: input ends inside the headers")
        size += len(line)
        if size > limit:
            raise _BadRequest(f"headers larger than {size_text(limit)} (--max-value-size)")
        if not line.strip():
            return Headers(pairs)
        if line[:1] in (b" ", b"\t") and pairs:  # obsolete line folding
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip().decode('latin-1')}")
            continue
        m = _HEADER.match(line)
        if m is None:
            raise _BadRequest(f"malformed header on line {stream.line - 1}")
        pairs.append((m.group(1).decode("ascii"), m.group(2).decode("latin-1")))


def _body(stream: _Bytes, headers: Headers, limit: int) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _chunked(stream, limit)
    length = headers.get("content-length")
    if length is not None:
        if not _DIGITS.fullmatch(length):  # ASCII digits only: str.isdigit() is true for "²"
            raise _BadRequest(f"bad Content-Length: {length!r} (expected a number of bytes)")
        size = int(length)
        if size > limit:
            raise _BadRequest(f"body larger than {size_text(limit)} (--max-value-size): Content-Length is {size}")
        body = stream.read(size)
        if len(body) < size:
            raise _BadRequest(f"truncated body: Content-Length is {size} bytes, input has {len(body)}")
        return body
    parts: list[bytes] = []
    size = 0
    while True:
        line = stream.peek_line()
        if not line or _REQUEST_LINE.match(line):
            break
        parts.append(stream.readline())
        size += len(line)
        if size > limit:
            raise _BadRequest(f"body larger than {size_text(limit)} (--max-value-size)")
    return b"".join(parts).rstrip(b"\r\n")


class ChunkError(ValueError):
    """A chunked body that cannot be decoded."""


class BodyTooLarge(ValueError):
    """A chunked body longer than the limit given."""


def dechunk(readline: Callable[[], bytes], read: Callable[[int], bytes], limit: int | None = None) -> bytes:
    """Decode a `Transfer-Encoding: chunked` body: hex size line, chunk, line end; trailers.

    Shared by captured requests and the receiver (which passes its body limit).
    """
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = readline()
        m = _CHUNK_SIZE.match(size_line)
        if m is None:
            raise ChunkError(f"bad chunk size {size_line.strip()[:20]!r}" if size_line else "input ends")
        size = int(m.group(1), 16)
        if size == 0:
            break
        total += size
        if limit is not None and total > limit:
            raise BodyTooLarge(f"body over the limit ({limit} bytes)")
        chunk = read(size)
        if len(chunk) < size:
            raise ChunkError(f"input ends inside a {size}-byte chunk")
        parts.append(chunk)
        if not _EOL.fullmatch(readline()):
            raise ChunkError(f"chunk longer than its size ({size}) says")
    while readline().strip():  # trailer fields, up to a blank line or the end of input
        pass
    return b"".join(parts)


def _chunked(stream: _Bytes, limit: int) -> bytes:
    at = stream.line
    try:
        return dechunk(stream.readline, stream.read, limit)
    except BodyTooLarge:
        raise _BadRequest(f"body larger than {size_text(limit)} (--max-value-size)") from None
    except ChunkError as exc:
        raise _BadRequest(f"bad chunked encoding: {exc} (chunks from line {at})") from None


def request_record(locator: Locator, headers: Headers, body: bytes, exact: bool = False) -> Item:
    """A delivery's record: raw is the body as received, value its JSON object (`exact`:
    integers beyond 64 bits exact, see `exact.loads`)."""
    if not body.strip():
        return Unreadable(locator, "request has no body", raw=body, headers=headers)
    try:
        value = (exact_loads if exact else orjson.loads)(body)
    except orjson.JSONDecodeError as exc:
        return Unreadable(locator, f"request body is not JSON: {exc.msg}", raw=body, headers=headers)
    if not isinstance(value, dict):
        return Unreadable(locator, "request body is not a JSON object", raw=body, headers=headers)
    return Record(locator, body, value, headers)


# --- records saved by `vevents listen --save` ---------------------------------------------------


def saved_delivery(locator: Locator, saved: dict[str, Any], exact: bool = False) -> Item:
    """A delivery saved by `listen --save`: its body bytes and headers, as they arrived."""
    body, headers = saved.get("body"), saved.get("headers")
    if not isinstance(body, str) or not isinstance(headers, dict):
        return Unreadable(locator, "saved delivery: `body` must be a string and `headers` an object")
    if saved.get("body_encoding") == "base64":
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            return Unreadable(locator, "saved delivery: `body` is not valid base64")
    else:
        raw = body.encode("utf-8")
    return request_record(locator, Headers((str(k), str(v)) for k, v in headers.items()), raw, exact)
