"""Deliveries as input: captured HTTP requests, records saved by `vevents listen --save`.

A capture is a raw HTTP/1.1 request dump — request line, headers, a blank line, the body —
with CRLF or LF line ends; several requests may follow one another in one file. The body
is `Content-Length` bytes, or chunks (`Transfer-Encoding: chunked`, decoded), or else runs
to the next request line (or the end of the file) without the line breaks before it.

Each request becomes a `Record` whose `raw` is the body exactly as received (what the
signature covers), `value` the parsed JSON body and `headers` a case-insensitive mapping;
a request that cannot be read becomes an `Unreadable` at the line where it starts.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from vevents_cli.model import Locator, Record, Unreadable

Item = Record | Unreadable

_REQUEST_LINE = re.compile(rb"^[A-Z]+ \S+ HTTP/1\.[01]\r?\n?$")
_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*\r?\n?$")
_CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n$")
_EOL = re.compile(rb"\r?\n$")


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
    """A line iterator read as a byte stream, counting the lines consumed (1-based)."""

    def __init__(self, first_line: bytes, lines: Iterable[bytes]) -> None:
        self.buffer = first_line
        self.lines = iter(lines)
        self.line = 1  # the line the next byte is on

    def _fill(self) -> bool:
        more = next(self.lines, None)
        if more is None:
            return False
        self.buffer += more
        return True

    def _take(self, n: int) -> bytes:
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.line += out.count(b"\n")
        return out

    def readline(self) -> bytes:
        """The next line with its line end; b"" at the end of input."""
        while b"\n" not in self.buffer and self._fill():
            pass
        end = self.buffer.find(b"\n")
        return self._take(len(self.buffer) if end < 0 else end + 1)

    def read(self, n: int) -> bytes:
        """Up to `n` bytes (fewer only at the end of input)."""
        while len(self.buffer) < n and self._fill():
            pass
        return self._take(n)

    def peek_line(self) -> bytes:
        while b"\n" not in self.buffer and self._fill():
            pass
        end = self.buffer.find(b"\n")
        return self.buffer if end < 0 else self.buffer[: end + 1]


class _BadRequest(Exception):
    pass


def read_requests(name: str, first_line: bytes, lines: Iterable[bytes]) -> Iterator[Item]:
    """Every request of a capture, as records (or unreadables), in order."""
    stream = _Bytes(first_line, lines)
    while True:
        line = stream.peek_line()
        if not line:
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
        try:
            headers = _headers(stream)
            body = _body(stream, headers)
        except _BadRequest as exc:
            yield Unreadable(Locator(name, start), str(exc))
            _skip_to_request(stream)
            continue
        yield request_record(Locator(name, start), headers, body)


def _skip_to_request(stream: _Bytes) -> None:
    while True:
        line = stream.peek_line()
        if not line or _REQUEST_LINE.match(line):
            return
        stream.readline()


def _headers(stream: _Bytes) -> Headers:
    pairs: list[tuple[str, str]] = []
    while True:
        line = stream.readline()
        if not line:
            raise _BadRequest("truncated request: input ends inside the headers")
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


def _body(stream: _Bytes, headers: Headers) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _chunked(stream)
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _BadRequest(f"bad Content-Length: {length!r}")
        body = stream.read(int(length))
        if len(body) < int(length):
            raise _BadRequest(f"truncated body: Content-Length is {length} bytes, input has {len(body)}")
        return body
    parts: list[bytes] = []
    while True:
        line = stream.peek_line()
        if not line or _REQUEST_LINE.match(line):
            break
        parts.append(stream.readline())
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


def _chunked(stream: _Bytes) -> bytes:
    at = stream.line
    try:
        return dechunk(stream.readline, stream.read)
    except ChunkError as exc:
        raise _BadRequest(f"bad chunked encoding: {exc} (chunks from line {at})") from None


def request_record(locator: Locator, headers: Headers, body: bytes) -> Item:
    """A delivery's record: raw is the body as received, value its JSON object."""
    if not body.strip():
        return Unreadable(locator, "request has no body")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Unreadable(locator, f"request body is not JSON: {exc.msg}")
    if not isinstance(value, dict):
        return Unreadable(locator, "request body is not a JSON object")
    return Record(locator, body, value, headers)


# --- records saved by `vevents listen --save` ---------------------------------------------------


def saved_delivery(locator: Locator, saved: dict[str, Any]) -> Item:
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
    return request_record(locator, Headers((str(k), str(v)) for k, v in headers.items()), raw)
