"""Sending deliveries to a handler, as Voucherify does: one POST per event, retried on its schedule.

`outgoing` turns an event read by the pipeline into an `Outgoing` (the body's original
bytes when the input holds them: a captured request, a saved delivery, a line of a log;
else its compact form, the bytes Voucherify signs); `generated` makes one from each bundled
sample of the types asked for, in each dialect it is documented for. `post` is one HTTP
attempt with the standard library's `http.client`: the exact bytes given, no redirect
followed, the whole answer bounded by one deadline (a watchdog closes the socket when it
passes, so a server that trickles its answer cannot stretch it). `Sender` runs the
deliveries: attempts and retries on the vendor's schedule (`voucherify/delivery.py`), a
duplicate after success every K-th delivery, at most N at once and R per second, results
in input order. Every failure is a value (`Answer.error`), never an exception.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fnmatch
import http.client
import itertools
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import SplitResult

from vevents_cli.model import Note, Summary, Unreadable
from vevents_cli.voucherify import delivery, signatures
from vevents_cli.webhooks.http import UrlProblem, http_url, is_loopback

SignatureMode = Literal["sign", "keep", "none"]
BODY_LINE_READ = 64 * 1024  # of a non-2xx answer's body, read for its first line
ANSWER_READ = 1 << 20  # of any answer's body: the rest is not waited for


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery to send: what it is, the body's bytes, and the headers it was captured with."""

    label: str  # the input's locator, or "TYPE DIALECT" for a generated delivery
    source: str  # the input's source name, or the dialect of a generated delivery
    line: int
    type: str | None
    dialect: str | None
    event_id: str | None
    body: bytes
    captured: tuple[tuple[str, str], ...] = ()  # the input's request headers, if it had any
    skipped: str | None = None  # why it is not sent (a type without a bundled sample)
    generated: bool = False  # made from a bundled sample (--type, --all-types), not read


@dataclass(frozen=True, slots=True)
class Answer:
    """One attempt: the handler's status (None: no HTTP answer), time, and what went wrong."""

    status: int | None
    ms: float
    error: str | None = None  # connection refused, timeout, redirect, TLS, not HTTP...
    first_line: str | None = None  # of a non-2xx answer's body

    @property
    def ok(self) -> bool:
        return self.error is None and delivery.succeeded(self.status)


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of one delivery: its last attempt's answer, and how many attempts it took."""

    outgoing: Outgoing
    answer: Answer
    attempts: int
    signature: str | None  # the x-voucherify-signature sent (the same on every attempt)
    duplicate: bool = False  # a resend after success (--duplicate-every)


@dataclass(frozen=True, slots=True)
class Config:
    url: str
    secret: str | None = None
    signature: SignatureMode = "sign"
    headers: tuple[tuple[str, str], ...] = ()  # additional headers, as given
    timeout: float = delivery.RESPONSE_LIMIT
    retries: int = 0
    retry_scale: float = 1.0
    duplicate_every: int = 0  # 0: never
    concurrency: int = 1
    rate: float | None = None  # requests a second
    insecure: bool = False


def target(url: str, allow_remote: bool) -> SplitResult:
    """The URL to send to: http(s), with a host; loopback only unless `allow_remote`."""
    parts = http_url(url)
    if not allow_remote and not is_loopback(parts.hostname or ""):
        raise UrlProblem(
            f"{parts.hostname} is not this machine; give --allow-remote to send payloads (customer data) there"
        )
    return parts


# --- what to send ---------------------------------------------------------------------------------


def outgoing(s: Summary) -> Outgoing:
    """An event read from the input, as the delivery that sends it (a projection: may run in a worker)."""
    event = s.event
    raw = event.raw
    as_received = event.headers is not None or b"\n" not in raw.strip()
    body = raw if as_received else signatures.compact(raw.strip())
    return Outgoing(
        label=str(event.locator),
        source=event.locator.source,
        line=event.locator.line,
        type=event.type or event.name,
        dialect=event.dialect,
        event_id=event.id,
        body=body,
        captured=tuple((event.headers or {}).items()),
    )


def generated(
    patterns: tuple[str, ...], dialects: tuple[str, ...], same_ids: bool, now: datetime | None = None
) -> Iterator[Outgoing]:
    """The bundled sample of each type matching a pattern, in each dialect it is documented for
    (of `dialects`, if given), as `vevents types` lists them: fresh ids and `created_at` unless
    `same_ids`. A documented pair without a bundled sample is an `Outgoing` that is skipped."""
    from vevents_cli import jsonout, samples
    from vevents_cli.voucherify import catalogue
    from vevents_cli.voucherify import dialects as table

    start = now or datetime.now(UTC)
    entries = (e for e in catalogue.CATALOGUE.values() if any(fnmatch.fnmatchcase(e.name, p) for p in patterns))
    pairs = ((e, d) for e in entries for d in table.for_type(e) if not dialects or d in dialects)
    for number, (entry, dialect) in enumerate(pairs, 1):
        if samples.sample_path(entry.name) is None:
            body, event_id, skipped = b"", None, "no bundled sample of this type (it has no schema)"
        else:
            at = start + timedelta(milliseconds=number - 1)  # each its own time: no two share an id
            created_at = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
            payload = samples.sample(entry.name, dialect, None if same_ids else created_at)
            body, skipped = jsonout.dumps(payload), None
            event_id = table.DIALECTS[dialect].read(payload, entry.name).id
        yield Outgoing(
            f"{entry.name} {dialect}", dialect, number, entry.name, dialect, event_id, body, (), skipped, True
        )


def any_type(patterns: tuple[str, ...]) -> bool:
    """Whether any catalogue type matches one of `patterns`."""
    from vevents_cli.voucherify import catalogue

    return any(fnmatch.fnmatchcase(name, p) for name in catalogue.CATALOGUE for p in patterns)


# --- one attempt ----------------------------------------------------------------------------------


def request_headers(item: Outgoing, config: Config) -> tuple[tuple[str, str], ...]:
    """Content-Type (unless an additional header gives its own), the additional headers, and
    the signature (of exactly the bytes sent)."""
    own_type = dict_get(config.headers, "content-type") is not None
    headers = [*(() if own_type else (("Content-Type", delivery.CONTENT_TYPE),)), *config.headers]
    signature = None
    if config.signature == "keep":
        signature = dict_get(item.captured, signatures.SIGNATURE_HEADER)
    elif config.signature == "sign" and config.secret:
        signature = signatures.sign(item.body, config.secret)
    if signature is not None:
        headers.append((signatures.SIGNATURE_HEADER, signature))
    return tuple(headers)


def dict_get(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    """A header's value among (name, value) pairs, looked up case-insensitively."""
    return next((value for key, value in pairs if key.lower() == name), None)


def post(url: SplitResult, body: bytes, headers: Iterable[tuple[str, str]], timeout: float, insecure: bool) -> Answer:
    """POST `body` to `url` once; the whole answer within `timeout` seconds, or a failure."""
    host = url.hostname or ""
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        context = ssl.create_default_context()
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, url.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, url.port, timeout=timeout)
    expired = threading.Event()

    def expire() -> None:  # the deadline: whatever is being waited for ends now
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    start = time.monotonic()
    watchdog.start()
    try:
        return _exchange(connection, path, body, headers, start)
    except Exception as exc:  # every way an attempt fails is a value
        if expired.is_set() or isinstance(exc, TimeoutError):
            return Answer(None, _ms(start), f"no answer within {timeout:g} s (the sender's limit)")
        return Answer(None, _ms(start), _failure(exc))
    finally:
        watchdog.cancel()
        connection.close()


def _exchange(
    connection: http.client.HTTPConnection, path: str, body: bytes, headers: Iterable[tuple[str, str]], start: float
) -> Answer:
    connection.putrequest("POST", path, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    status = response.status
    if 300 <= status < 400:
        location = response.getheader("Location")
        where = f" to {location}" if location else ""
        return Answer(status, _ms(start), f"redirect{where} (not followed)")
    if delivery.succeeded(status):
        response.read(ANSWER_READ)
        return Answer(status, _ms(start))
    text = response.read(BODY_LINE_READ).decode("utf-8", "replace").strip()
    first = text.splitlines()[0] if text else None
    return Answer(status, _ms(start), first_line=first)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected):
        return "connection closed without an answer"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.BadStatusLine | http.client.LineTooLong | http.client.HTTPException):
        return f"not an HTTP answer ({type(exc).__name__}: {str(exc)[:60]})"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host: {exc.strerror or exc}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000


# --- the deliveries ---------------------------------------------------------------------------------


class Pacer:
    """At most `rate` requests a second (None: no limit), across threads."""

    def __init__(self, rate: float | None) -> None:
        self.gap = 1 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.gap:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.gap
        time.sleep(max(0.0, at - now))


class Sender:
    """Sends deliveries to one URL with the vendor's behaviour, and tells what became of each."""

    def __init__(self, url: SplitResult, config: Config) -> None:
        self.url = url
        self.config = config
        self.pacer = Pacer(config.rate)
        self._stopping = threading.Event()

    def attempt(self, item: Outgoing, headers: tuple[tuple[str, str], ...]) -> Answer:
        self.pacer.wait()
        return post(self.url, item.body, headers, self.config.timeout, self.config.insecure)

    def deliver(self, item: Outgoing, duplicate: bool) -> tuple[Sent, ...]:
        """One delivery: tried, retried on the schedule with the same bytes and signature; then,
        if it succeeded and `duplicate`, sent once more."""
        if item.skipped is not None:
            return (Sent(item, Answer(None, 0.0), 0, None),)
        headers = request_headers(item, self.config)
        signature = dict_get(headers, signatures.SIGNATURE_HEADER)
        answer = self.attempt(item, headers)
        attempts = 1
        while not answer.ok and attempts <= self.config.retries:
            if self._stopping.wait(delivery.retry_delay(attempts, self.config.retry_scale)):
                break  # the run was stopped: its last answer stands
            answer = self.attempt(item, headers)
            attempts += 1
        sent = Sent(item, answer, attempts, signature)
        if not (duplicate and answer.ok):
            return (sent,)
        return (sent, replace(sent, answer=self.attempt(item, headers), attempts=1, duplicate=True))

    def run(self, items: Iterable[Outgoing | Unreadable | Note]) -> Iterator[Sent | Unreadable | Note]:
        """Every item's results, in input order; at most `concurrency` deliveries in flight.
        However it ends (Ctrl-C, a closed pipe), retry waits end and queued deliveries are dropped."""
        every = self.config.duplicate_every
        numbers = itertools.count(1)
        pending: deque[concurrent.futures.Future[tuple[Sent, ...]] | Unreadable | Note] = deque()
        pool = concurrent.futures.ThreadPoolExecutor(max(1, self.config.concurrency), "vevents-send")
        try:
            for item in items:
                if isinstance(item, Outgoing):
                    number = next(numbers)
                    pending.append(pool.submit(self.deliver, item, bool(every) and number % every == 0))
                else:
                    pending.append(item)
                while len(pending) > self.config.concurrency or (pending and _ready(pending[0])):
                    yield from _results(pending.popleft())
            while pending:
                yield from _results(pending.popleft())
        finally:
            self._stopping.set()
            pool.shutdown(wait=False, cancel_futures=True)
            close = getattr(items, "close", None)
            if close is not None:
                close()


def _ready(item: concurrent.futures.Future[tuple[Sent, ...]] | Unreadable | Note) -> bool:
    return not isinstance(item, concurrent.futures.Future) or item.done()


def _results(
    item: concurrent.futures.Future[tuple[Sent, ...]] | Unreadable | Note,
) -> Iterable[Sent | Unreadable | Note]:
    return item.result() if isinstance(item, concurrent.futures.Future) else (item,)


def headers_given(lines: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`-H 'Name: value'` options as header pairs; ValueError for one that is not a header a
    sender may add (no name, a character HTTP does not allow, or one the sender writes itself)."""
    pairs = []
    for given in lines:
        name, colon, value = given.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name or not _TOKEN.issuperset(name) or any(c in value for c in "\r\n\0"):
            raise ValueError(f"{given!r} is not 'Name: value'")
        if name.lower() in delivery.OWN_HEADERS:
            raise ValueError(f"{name} is written by the sender itself")
        pairs.append((name, value))
    return tuple(pairs)


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
