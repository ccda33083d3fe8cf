"""HTTP message pieces shared by everything that reads or sends a delivery.

`Headers` is a case-insensitive mapping that keeps names as received; `content_length`
is the one reading of a Content-Length header (a number of bytes in 1 to 18 ASCII digits,
with spaces or tabs around: `²` is not 2, `-1` and `0x10` are not sizes; sent more than
once, or as a list, the same number each time is that number, and different numbers are
`ConflictingLength`: RFC 9110 section 8.6, RFC 9112 section 6.3); `dechunk`
decodes a `Transfer-Encoding: chunked` body from any line/byte reader, under a limit;
`request_record` turns a request's body and headers into the `Record` the pipeline reads;
`is_loopback` says whether a host is this machine (bound to, or sent to without a proxy).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from urllib.parse import SplitResult, urlsplit

import orjson

from vevents_cli.jsonout import loads as exact_loads
from vevents_cli.model import Locator, Record, Unreadable

_CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n$")
_EOL = re.compile(rb"\r?\n$")
_CONTENT_LENGTH = re.compile(r"[ \t]*([0-9]{1,18})[ \t]*")


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


class ConflictingLength(ValueError):
    """Content-Length given more than once with different numbers: where the body ends is unknown."""


def content_length(value: str) -> int | None:
    """A Content-Length header's number of bytes, or None if the value is not one.

    ASCII digits only (`str.isdigit()` is true for "²"), at most 18 of them (a size, not
    a number too long to convert), with spaces or tabs around. The header sent more than
    once (joined with ", ", as `Headers` does) or as a list: the same number each time is
    that number; different numbers raise `ConflictingLength`. Each caller compares the
    size with its own limit.
    """
    sizes = set()
    for part in value.split(","):
        m = _CONTENT_LENGTH.fullmatch(part)
        if m is None:
            return None
        sizes.add(int(m.group(1)))
    if len(sizes) > 1:
        raise ConflictingLength(f"conflicting Content-Length headers: {', '.join(map(str, sorted(sizes)))}")
    return sizes.pop()


class ChunkError(ValueError):
    """A chunked body that cannot be decoded."""


class BodyTooLarge(ValueError):
    """A chunked body longer than the limit given."""


def dechunk(readline: Callable[[], bytes], read: Callable[[int], bytes], limit: int | None = None) -> bytes:
    """Decode a `Transfer-Encoding: chunked` body: hex size line, chunk, line end; trailers."""
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


def request_record(locator: Locator, headers: Headers, body: bytes, exact: bool = False) -> Record | Unreadable:
    """A delivery's record: raw is the body as received, value its JSON object (`exact`:
    integers beyond 64 bits exact, see `jsonout.loads`)."""
    if not body.strip():
        return Unreadable(locator, "request has no body", raw=body, headers=headers)
    try:
        value = (exact_loads if exact else orjson.loads)(body)
    except orjson.JSONDecodeError as exc:
        return Unreadable(locator, f"request body is not JSON: {exc.msg}", raw=body, headers=headers)
    if not isinstance(value, dict):
        return Unreadable(locator, "request body is not a JSON object", raw=body, headers=headers)
    return Record(locator, body, value, headers)


class UrlProblem(ValueError):
    """A URL vevents will not send to."""


def http_url(url: str) -> SplitResult:
    """`url` split, if it is http(s) with a host and a readable port (`send`, `listen --forward`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlProblem("must be an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 (a bad port raises here, not later)
    except ValueError as exc:
        raise UrlProblem(str(exc)) from None
    return parts


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (`localhost` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
