"""One delivery at a time: the receiver behind `vevents listen`.

`Receiver` takes each request the server hands it (`server.Handler`): a POST to the
configured path is read (up to `max_body` bytes, Content-Length or chunked; Content-Length
sent twice with different numbers is a 400 and the connection's end), its signature
checked, saved (`saved.SaveFile`) and answered at once: 200 only once its line is written
whole, 503 if it could not be (counted in `not_saved`); it is then queued as a record
(with how it was answered: a `Delivery`) for the pipeline, which recognises, validates and
summarises it like any other input, and, when asked, queued for the `Forwarder`, whose own
thread passes it on: a slow target never delays an answer. Any other request is answered
(404, 405, 413, 400) without taking its body, which is dropped (bounded) to keep the
connection, and queued as an unreadable item with how it was answered.

`Receiver(config).start()` binds (port 0: any free port) and serves in background
threads, returning (host, port); `.deliveries()` yields the records until Ctrl-C (or
`.stop()`); `.stop()` ends it, letting deliveries in flight finish; `.remaining()` yields
what was answered and not yet taken, so that no delivery goes unreported.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from vevents_cli.model import Delivery, Locator, Record, Unreadable
from vevents_cli.voucherify import signatures
from vevents_cli.webhooks.forward import Forwarded, Forwarder
from vevents_cli.webhooks.http import BodyTooLarge, ChunkError, ConflictingLength, Headers, content_length, dechunk
from vevents_cli.webhooks.saved import SaveFile, saved_record
from vevents_cli.webhooks.server import BODY, BUSY, Handler, Server, connection_caps

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # a refused body up to this size is read and dropped, keeping the connection


@dataclass(frozen=True, slots=True)
class Config:
    """What `vevents listen` listens on, checks, saves and forwards; its connection limits."""

    host: str = "127.0.0.1"
    port: int = 8787
    path: str = "/"
    secret: str | None = None
    require_signature: bool = False
    save: Path | None = None
    forward: str | None = None
    max_body: int = MAX_BODY
    forward_timeout: float = 10.0
    forward_queue: int = 100  # deliveries waiting to be forwarded; more are dropped (with a note)
    max_connections: int = 64  # with a thread; more wait their turn, idle ones are closed to make room
    max_waiting: int = 4096  # still sending their first request head; the longest waiting are closed first
    idle_timeout: float = 60.0  # a kept-alive connection with no request
    head_timeout: float = 10.0  # from a request's first byte to the end of its head
    body_timeout: float = 30.0  # to read (or drop) a body and answer


class _BadBody(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Receiver:
    """A webhook receiver for development: requests in, records out (`deliveries`).

    `on_forward` hears what became of each forwarded delivery (from the forwarding
    thread); `on_note` hears, once each, that the receiver is under pressure.
    """

    def __init__(
        self,
        config: Config,
        on_forward: Callable[[Forwarded], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.counts: Counter[int] = Counter()
        self.closed = 0  # connections closed for being idle or slow, or to make room
        self.not_saved = 0  # deliveries answered 503: their record could not be written
        self._on_note = on_note
        self._notes: set[str] = set()
        # queue.Queue, not SimpleQueue: a signal during SimpleQueue.get(timeout=...) whose handler
        # outlasts the timeout leaves it waiting forever (CPython 3.11: the time left goes negative,
        # which means no limit), and Ctrl-C would never end the run
        self._queue: queue.Queue[Record | Unreadable] = queue.Queue()
        self._stopped = threading.Event()
        self._interrupted = threading.Event()
        self._count_lock = threading.Lock()
        self._save = SaveFile(config.save) if config.save else None
        self._server: Server | None = None
        self.forwarder = (
            Forwarder(config.forward, config.forward_timeout, config.forward_queue, on_forward)
            if config.forward
            else None
        )

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        """Bind and serve in a background thread; the address actually bound (port 0: any free)."""
        self._server = Server(self, (self.config.host, self.config.port), self.config)
        if self.forwarder is not None:
            self.forwarder.start()
        self._server.start()
        host, port = self._server.address[:2]
        return str(host), int(port)

    def deliveries(self) -> Iterator[Record | Unreadable]:
        """Every request as it arrives (a record, or unreadable with how it was answered),
        until `interrupt()` (Ctrl-C or SIGTERM, see `signals_stop`), `stop()`, or a
        KeyboardInterrupt where no handler was installed."""
        try:
            while not self._interrupted.is_set():
                try:
                    yield self._queue.get(timeout=0.2)
                except queue.Empty:
                    if self._stopped.is_set():
                        return
        except KeyboardInterrupt:
            return

    def interrupt(self) -> None:
        """End `deliveries()` after the delivery being handled; a second time, at once
        (KeyboardInterrupt: the user insists)."""
        if self._interrupted.is_set():
            raise KeyboardInterrupt
        self._interrupted.set()

    @contextlib.contextmanager
    def signals_stop(self) -> Iterator[None]:
        """Within: Ctrl-C and SIGTERM `interrupt()` (between deliveries, never in the middle
        of one being printed), instead of raising wherever the main thread happens to be."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {
            sig: signal.signal(sig, lambda signum, frame: self.interrupt()) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def remaining(self) -> Iterator[Record | Unreadable]:
        """The requests answered but not yet taken (after `stop`: those that were in flight)."""
        while True:
            try:
                yield self._queue.get_nowait()
            except queue.Empty:
                return

    def stop(self) -> None:
        """Stop accepting, close idle and slow connections, let deliveries in flight finish
        (bounded by the read timeouts); forwards not yet sent are dropped, none is waited for."""
        self._stopped.set()
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        if self.forwarder is not None:
            self.forwarder.stop()
        if self._save is not None:
            self._save.close()

    @property
    def cap(self) -> int:
        """Connections served at once: `max_connections`, or fewer if the open-files limit says so."""
        if self._server is not None:
            return self._server.cap
        return connection_caps(self.config.max_connections, self.config.max_waiting)[0]

    @property
    def received(self) -> int:
        return sum(self.counts.values())

    def summary_line(self) -> str:
        parts = [f"{n} × {status} {HTTPStatus(status).phrase}" for status, n in sorted(self.counts.items())]
        total = self.received
        line = f"received {total} request{'' if total == 1 else 's'}" + (": " + ", ".join(parts) if parts else "")
        if self.closed:
            line += f" · {self.closed} idle or slow connection{'' if self.closed == 1 else 's'} closed"
        if self.not_saved:
            line += f" · {self.not_saved} not saved (answered 503)"
        dropped = self.forwarder.dropped if self.forwarder is not None else 0
        if dropped:
            line += f" · {dropped} forward{'' if dropped == 1 else 's'} dropped"
        return line

    def note_once(self, key: str, text: str) -> None:
        """Tell the console about a condition (once per run)."""
        with self._count_lock:
            if key in self._notes:
                return
            self._notes.add(key)
        if self._on_note is not None:
            self._on_note(text)

    # -- one request ------------------------------------------------------------------------

    def handle(self, req: Handler) -> None:
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        config = self.config
        if urlsplit(req.path).path != config.path:
            self._reject(req, 404, f"not found: deliveries go to {config.path}")
            return
        if req.command != "POST":
            self._reject(req, 405, "method not allowed: deliveries are POSTs", {"Allow": "POST"})
            return
        try:
            body = self._read_body(req)
        except _BadBody as exc:
            self._reject(req, exc.status, exc.reason)
            return
        except OSError:  # the client went away mid-body, or was too slow
            req.close_connection = True
            return
        req.phase(BUSY)
        headers = Headers(req.headers.items())
        value: Any = None
        try:
            value, is_json = orjson.loads(body), True
        except orjson.JSONDecodeError:
            is_json = False
        given = headers.get(signatures.SIGNATURE_HEADER)
        match = signatures.verify(body, config.secret, given) if config.secret and given else None
        if config.require_signature and not (match and match.matched):
            status, reason = 401, "signature missing" if not given else "signature does not match"
        elif not is_json:
            status, reason = 400, "body is not JSON"
        else:
            status, reason = 200, None
        if self._save is not None:
            try:
                line = saved_record(received_at, req.command, req.path, headers, body, value, status, reason)
                self._save.append(line)
            except OSError as exc:  # not saved: not accepted either (the sender retries a 5xx)
                if status == 200:
                    status, reason = 503, f"could not save the delivery: {exc.strerror or exc}"
                with self._count_lock:
                    self.not_saved += 1
                self.note_once(f"save {exc.errno}", f"vevents: cannot write {self._save.path}: {exc.strerror or exc}")
        self._respond(req, status, {"ok": True} if status == 200 else {"error": reason})
        number = self._count(status)
        verdict = signatures.verdict(config.secret is not None, given, match)
        causes = signatures.likely_causes(body, given) if verdict == "mismatch" and given else ()
        delivery = Delivery(status, reason, verdict, causes)
        where = Locator(f"listen {req.path}", number)
        if isinstance(value, dict):
            self._queue.put(Record(where, body, value, headers, delivery))
        else:
            self._queue.put(Unreadable(where, reason or "body is not a JSON object", delivery=delivery))
        if status == 200 and self.forwarder is not None:
            self.forwarder.submit(headers, body, number)  # never waits: the next request is read at once

    def _read_body(self, req: Handler) -> bytes:
        limit = self.config.max_body
        req.phase(BODY)
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(req, limit)
        length = _length_header(req)
        if length is None:
            return b""
        try:
            size = content_length(length)
        except ConflictingLength as exc:  # where this body ends, and the next request starts, is unknown
            req.close_connection = True
            raise _BadBody(400, str(exc)) from None
        if size is None:
            req.close_connection = True
            raise _BadBody(400, f"bad Content-Length {length!r}")
        if size > limit:
            raise _BadBody(413, f"body of {size} bytes is over the limit ({limit} bytes, see --max-body)")
        body = req.rfile.read(size)
        if len(body) < size:
            raise OSError("client closed the connection mid-body")
        return body

    def _read_chunked(self, req: Handler, limit: int) -> bytes:
        try:
            return dechunk(lambda: req.rfile.readline(1024), req.rfile.read, limit)
        except BodyTooLarge:
            req.close_connection = True
            raise _BadBody(413, f"body over the limit ({limit} bytes, see --max-body)") from None
        except ChunkError as exc:
            req.close_connection = True
            raise _BadBody(400, f"bad chunked encoding: {exc}") from None

    def _reject(self, req: Handler, status: int, reason: str, extra: dict[str, str] | None = None) -> None:
        """Answer without taking the body: drop it (bounded) so the connection stays usable."""
        req.phase(BODY)
        try:
            size = content_length(_length_header(req) or "0")
        except ConflictingLength:
            size = None
        pending = size if size is not None else DRAIN_LIMIT + 1
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower() or pending > DRAIN_LIMIT:
            req.close_connection = True
        elif pending and not req.close_connection:
            try:
                while pending > 0:
                    chunk = req.rfile.read(min(pending, 65536))
                    if not chunk:
                        break
                    pending -= len(chunk)
            except OSError:
                req.close_connection = True
                return
        req.phase(BUSY)
        self._respond(req, status, {"error": reason}, extra)
        number = self._count(status)
        where = Locator(f"listen {req.path}", number)
        self._queue.put(Unreadable(where, f"{req.command} {req.path}  {reason}", delivery=Delivery(status, reason)))

    def _respond(self, req: Handler, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        body = orjson.dumps(payload)
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                req.send_header(name, value)
            if req.close_connection:
                req.send_header("Connection", "close")
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(body)
        except OSError:
            req.close_connection = True

    def _count(self, status: int) -> int:
        """Count one answer; how many requests have been answered, this one included."""
        with self._count_lock:
            self.counts[status] += 1
            return sum(self.counts.values())


def _length_header(req: Handler) -> str | None:
    """The request's Content-Length, every time it was sent (joined with ", "), or None."""
    values = req.headers.get_all("Content-Length")
    return ", ".join(values) if values else None
