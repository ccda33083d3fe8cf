"""Captured HTTP requests as input: each request's body becomes a record.

A capture is a raw HTTP/1.1 request dump — request line, headers, a blank line, the body —
with CRLF or LF line ends; several requests may follow one another in one file. The body
is `Content-Length` bytes, or chunks (`Transfer-Encoding: chunked`, decoded), or else runs
to the next request line (or the end of the file) without the line breaks before it.

Each request becomes a `Record` whose `raw` is the body exactly as received (what the
signature covers), `value` the parsed JSON body and `headers` a case-insensitive mapping;
a request that cannot be read becomes an `Unreadable` at the line where it starts (one
whose body is not a JSON object keeps that body and its headers, for `verify`). Headers
and bodies are bounded by `--max-value-size`; reading is linear in the capture's size.
Headers, Content-Length, chunks and the record of a body are `webhooks/http.py`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from vevents_cli.model import Locator, Read, Unreadable
from vevents_cli.pipeline.config import MAX_VALUE_SIZE, size_text
from vevents_cli.pipeline.sources import Dropped, Line, ReadFailed, Restart
from vevents_cli.webhooks.http import (
    BodyTooLarge,
    ChunkError,
    ConflictingLength,
    Headers,
    content_length,
    dechunk,
    request_record,
)

_REQUEST_LINE = re.compile(rb"^[A-Z]+ \S+ HTTP/1\.[01]\r?\n?$")
_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*\r?\n?$")


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
) -> Iterator[Read]:
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
        try:
            size = content_length(length)
        except ConflictingLength as exc:
            raise _BadRequest(f"{exc} (where the body ends is unknown)") from None
        if size is None:
            raise _BadRequest(f"bad Content-Length: {length!r} (expected a number of bytes)")
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


def _chunked(stream: _Bytes, limit: int) -> bytes:
    at = stream.line
    try:
        return dechunk(stream.readline, stream.read, limit)
    except BodyTooLarge:
        raise _BadRequest(f"body larger than {size_text(limit)} (--max-value-size)") from None
    except ChunkError as exc:
        raise _BadRequest(f"bad chunked encoding: {exc} (chunks from line {at})") from None
