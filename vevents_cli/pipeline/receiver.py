"""The live source behind `vevents listen`: take webhook deliveries, check, save, forward.

HTTP/1.1 with keep-alive, a thread per connection (`BaseHTTPRequestHandler`), at most
`max_connections` of them. Each POST to the configured path is read (up to `max_body`
bytes), its signature checked, saved (one NDJSON line, appended atomically) and answered
at once; it is then queued as a record (with how it was answered: a `Delivery`) for the
pipeline, which recognises, validates and summarises it like any other input, and, when
asked, queued for the `Forwarder`, whose own thread passes it on: a slow target never
delays an answer.

Under load or attack (`_Server`): every phase of a connection has a deadline (idle
between requests, request head, body), enforced by the accepting thread, which closes
late connections; at the cap, new connections wait in the listen backlog while the
connection that has waited longest is closed to make room; out of file descriptors,
it backs off rather than spinning.

`Receiver(config).start()` binds (port 0: any free port) and serves in background
threads, returning (host, port); `.deliveries()` yields the records until Ctrl-C (or
`.stop()`); `.stop()` ends it, letting deliveries in flight finish; `.remaining()` yields
what was answered and not yet taken, so that no delivery goes unreported.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import http.client
import ipaddress
import os
import queue
import re
import selectors
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from vevents_cli import jsonout
from vevents_cli.model import Delivery, Locator, Record, Unreadable
from vevents_cli.pipeline import captures
from vevents_cli.pipeline.captures import Headers
from vevents_cli.voucherify import signatures

MAX_BODY = 1024 * 1024
BACKLOG = 128  # connections the kernel holds while all slots are taken
TICK = 0.1  # how often the accepting thread looks at deadlines when nothing happens
EVICT_AFTER = 0.5  # a waiting connection is closed to make room only after this long
MAX_BACKOFF = 1.0  # out of file descriptors: the longest pause before trying to accept again
FD_RESERVE = 32  # file descriptors connections leave to the rest of the process
FD_MARGIN = 4  # out of files anyway: the cap becomes the connections open, less this
STOP_GRACE = 2.0  # on stop, the forwards still queued get this long, then are dropped
DRAIN_LIMIT = 64 * 1024 * 1024  # a refused body up to this size is read and dropped, keeping the connection


@dataclass(frozen=True, slots=True)
class Config:
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
    max_connections: int = 64  # more wait in the backlog; idle and slow ones are closed to make room
    idle_timeout: float = 60.0  # a kept-alive connection with no request
    head_timeout: float = 10.0  # from a request's first byte to the end of its head
    body_timeout: float = 30.0  # to read (or drop) a body and answer


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SaveFile:
    """An NDJSON file that deliveries are appended to: one write of a whole line, under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = memoryview(jsonout.dumps(record, newline=True))
        with self._lock:
            while line:  # one write in practice; a short write (disk full...) is finished, not interleaved
                line = line[os.write(self._fd, line) :]

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def saved_record(
    received_at: str, method: str, path: str, headers: Headers, body: bytes, value: Any, status: int
) -> dict[str, Any]:
    """The NDJSON record of one delivery (the format `vevents verify` and `show` read back)."""
    record: dict[str, Any] = {
        "received_at": received_at,
        "method": method,
        "path": path,
        "headers": dict(headers.items()),
    }
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body"], record["body_encoding"] = base64.b64encode(body).decode("ascii"), "base64"
    record["event"] = value
    record["status"] = status
    return record


class _BadBody(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What became of a delivery passed on to `--forward`: the target's status, or an error."""

    url: str
    status: int | None
    ms: float
    error: str | None = None
    dropped: bool = False  # not sent: the queue was full


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
        self._on_note = on_note
        self._notes: set[str] = set()
        self._queue: queue.SimpleQueue[Record | Unreadable] = queue.SimpleQueue()
        self._stopped = threading.Event()
        self._interrupted = threading.Event()
        self._count_lock = threading.Lock()
        self._save = SaveFile(config.save) if config.save else None
        self._server: _Server | None = None
        self.forwarder = Forwarder(config, on_forward) if config.forward else None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> tuple[str, int]:
        """Bind and serve in a background thread; the address actually bound (port 0: any free)."""
        self._server = _Server(self, (self.config.host, self.config.port))
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
        return self._server.cap if self._server is not None else connection_cap(self.config.max_connections)

    @property
    def received(self) -> int:
        return sum(self.counts.values())

    def summary_line(self) -> str:
        parts = [f"{n} × {status} {HTTPStatus(status).phrase}" for status, n in sorted(self.counts.items())]
        total = self.received
        line = f"received {total} request{'' if total == 1 else 's'}" + (": " + ", ".join(parts) if parts else "")
        if self.closed:
            line += f" · {self.closed} idle or slow connection{'' if self.closed == 1 else 's'} closed"
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

    def handle(self, req: _Handler) -> None:
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
            self._save.append(saved_record(received_at, req.command, req.path, headers, body, value, status))
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
            self.forwarder.submit(headers, body)  # never waits: the next request is read at once

    def _read_body(self, req: _Handler) -> bytes:
        limit = self.config.max_body
        req.phase(BODY)
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(req, limit)
        length = req.headers.get("Content-Length")
        if length is None:
            return b""
        size = content_length(length)
        if size is None:
            req.close_connection = True
            raise _BadBody(400, f"bad Content-Length {length!r}")
        if size > limit:
            raise _BadBody(413, f"body of {size} bytes is over the limit ({limit} bytes, see --max-body)")
        body = req.rfile.read(size)
        if len(body) < size:
            raise OSError("client closed the connection mid-body")
        return body

    def _read_chunked(self, req: _Handler, limit: int) -> bytes:
        try:
            return captures.dechunk(lambda: req.rfile.readline(1024), req.rfile.read, limit)
        except captures.BodyTooLarge:
            req.close_connection = True
            raise _BadBody(413, f"body over the limit ({limit} bytes, see --max-body)") from None
        except captures.ChunkError as exc:
            req.close_connection = True
            raise _BadBody(400, f"bad chunked encoding: {exc}") from None

    def _reject(self, req: _Handler, status: int, reason: str, extra: dict[str, str] | None = None) -> None:
        """Answer without taking the body: drop it (bounded) so the connection stays usable."""
        req.phase(BODY)
        length = req.headers.get("Content-Length", "0")
        size = content_length(length)
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

    def _respond(
        self, req: _Handler, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
    ) -> None:
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


def content_length(value: str) -> int | None:
    """A Content-Length header's value, or None if it is not one (ASCII digits only: `²` is not 2)."""
    value = value.strip()
    return int(value) if _DIGITS.fullmatch(value) else None


_DIGITS = re.compile(r"[0-9]{1,18}")


# --- forwarding: off the receiving path ------------------------------------------------------


class Forwarder:
    """Passes accepted deliveries on to `--forward`, one at a time, from its own thread.

    The receiving path only queues (`submit` never waits): a slow or dead target delays
    no answer and no next request. The queue holds `forward_queue` deliveries; one that
    finds it full is dropped, and told (`on_forward`, `dropped`). `stop` waits at most
    `STOP_GRACE` seconds, never for a slow target's timeout (the thread is a daemon).
    """

    def __init__(self, config: Config, on_forward: Callable[[Forwarded], None] | None) -> None:
        assert config.forward is not None
        self.url = config.forward
        self.timeout = config.forward_timeout
        self.dropped = 0
        self._on_forward = on_forward
        self._lock = threading.Lock()
        self._stopped = False
        self._queue: queue.Queue[tuple[Headers, bytes] | None] = queue.Queue(maxsize=config.forward_queue)
        self._thread = threading.Thread(target=self._run, name="vevents-forward", daemon=True)
        host = urlsplit(self.url).hostname
        handlers = [urllib.request.ProxyHandler({})] if host and is_loopback(host) else []
        self._opener = urllib.request.build_opener(*handlers)

    def start(self) -> None:
        self._thread.start()

    def submit(self, headers: Headers, body: bytes) -> None:
        try:
            self._queue.put_nowait((headers, body))
        except queue.Full:
            with self._lock:
                self.dropped += 1
            self._tell(
                Forwarded(
                    self.url,
                    None,
                    0.0,
                    f"{self._queue.maxsize} deliveries already waiting for a slow target",
                    dropped=True,
                )
            )

    def stop(self) -> None:
        """Give the queue `STOP_GRACE` seconds to empty, then drop what is left (counted) and
        leave the forward in progress to its timeout, unwaited for. Nothing more is told
        after this: the console's last line is the receiver's summary."""
        end = time.monotonic() + STOP_GRACE
        if self._thread.ident is not None:  # started
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=STOP_GRACE)
            self._thread.join(max(0.0, end - time.monotonic()))
        with self._lock:
            self._stopped = True
            while True:
                try:
                    if self._queue.get_nowait() is not None:
                        self.dropped += 1
                except queue.Empty:
                    break
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            self._tell(self.send(*item))

    def send(self, headers: Headers, body: bytes) -> Forwarded:
        names = ("Content-Type", signatures.SIGNATURE_HEADER)
        sent = {name: headers[name] for name in names if name in headers}
        request = urllib.request.Request(self.url, data=body, headers=sent, method="POST")
        start = time.perf_counter()
        status: int | None = None
        error = None
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                answer.read()
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            error = str(getattr(exc, "reason", exc)) or type(exc).__name__
        return Forwarded(self.url, status, (time.perf_counter() - start) * 1000, error)

    def _tell(self, forwarded: Forwarded) -> None:
        with self._lock:
            if self._stopped:
                return
        if self._on_forward is not None:
            self._on_forward(forwarded)


# --- connections: a cap, timeouts, and no spinning -----------------------------------------------

IDLE, HEAD, BODY, BUSY = "idle", "head", "body", "busy"


def open_files_limit() -> int | None:
    """This process's limit on open files (None: none known)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def connection_cap(wanted: int) -> int:
    """`wanted`, or fewer when the open-files limit would otherwise be reached by connections
    alone: `FD_RESERVE` descriptors stay free for the rest (schemas, the save file, forwards)."""
    limit = open_files_limit()
    return wanted if limit is None else max(1, min(wanted, limit - FD_RESERVE))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vevents-listen"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # per read; the server's deadlines (`Config`'s timeouts) bound the whole of each phase
    server: _Server  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        self.rfile = _Reader(self.rfile)  # type: ignore[assignment]

    def phase(self, name: str) -> None:
        self.server.phase(self.connection, name)

    def handle_one_request(self) -> None:
        """Wait (idle) for the next request's first byte, then read it (head, body) and answer."""
        self.phase(IDLE)
        self.rfile.cut = False  # type: ignore[attr-defined]
        try:
            if not self.rfile.peek(1):
                self.close_connection = True
                return
        except OSError:
            self.close_connection = True
            return
        self.phase(HEAD)
        super().handle_one_request()

    def _dispatch(self) -> None:
        if self.rfile.cut:  # type: ignore[attr-defined]
            # The head ended with the input (the client went away, or was closed for being slow):
            # not a request, nothing to answer.
            self.close_connection = True
            return
        self.server.receiver.handle(self)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the receiver prints its own lines."""


class _Reader:
    """A connection's input, noting a line cut short by the end of input (a request head
    that never ended: `http.client` would take what came as the whole head)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.cut = False

    def readline(self, limit: int = -1) -> bytes:
        line: bytes = self.raw.readline(limit)
        if not line.endswith(b"\n") and (limit < 0 or len(line) < limit):
            self.cut = True
        return line

    def read(self, n: int = -1) -> bytes:
        return self.raw.read(n)  # type: ignore[no-any-return]

    def peek(self, n: int = 0) -> bytes:
        return self.raw.peek(n)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.raw.close()


@dataclass(slots=True)
class _Connection:
    thread: threading.Thread
    phase: str
    since: float


class _Server:
    """Accepts connections up to a cap, a thread each; closes those past their phase's deadline.

    One thread accepts and watches. At the cap, further connections wait in the listen
    backlog, and the oldest connection that is only waiting (idle between requests, or
    still sending its request head) is closed to make room for them once it has waited
    `EVICT_AFTER` seconds: slow clients cannot hold every slot. The cap leaves `FD_RESERVE`
    of the open-files limit to the rest of the process; out of file descriptors all the
    same (EMFILE), it lowers the cap to what is open, closes a waiting connection and
    backs off instead of retrying at once.
    """

    def __init__(self, receiver: Receiver, address: tuple[str, int]) -> None:
        self.receiver = receiver
        self.config = receiver.config
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(BACKLOG)
            self.socket.setblocking(False)
        except OSError:
            self.socket.close()
            raise
        self.address = self.socket.getsockname()
        self.cap = connection_cap(self.config.max_connections)
        self._connections: dict[socket.socket, _Connection] = {}
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="vevents-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- accepting ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        backoff = 0.0
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            while not self._stopping.is_set():
                self._reap()
                if not selector.select(timeout=TICK):
                    continue
                if not self._room():
                    with self._lock:
                        self._lock.wait(TICK)  # woken when a connection ends
                    continue
                try:
                    connection, address = self.socket.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                        if self._stopping.is_set():
                            return
                        continue  # ECONNABORTED and the like: that one connection is gone
                    backoff = min(max(backoff * 2, TICK / 2), MAX_BACKOFF)
                    self.receiver.note_once(
                        "fd",
                        f"out of file descriptors ({os.strerror(exc.errno)}): new "
                        "connections wait; idle and slow ones are closed first",
                    )
                    with self._lock:  # as many connections as there are files for, from now on
                        self.cap = max(1, min(self.cap, len(self._connections) - FD_MARGIN))
                    self._evict(force=True)
                    self._stopping.wait(backoff)
                    continue
                backoff = 0.0
                self._serve(connection, address)

    def _room(self) -> bool:
        """Whether one more connection may be taken (closing a waiting one if at the cap)."""
        with self._lock:
            if len(self._connections) < self.cap:
                return True
        self.receiver.note_once(
            "cap",
            f"{self.cap} connections open, the most served at once: new ones wait; idle and slow ones are closed first",
        )
        return self._evict(force=False)

    def _serve(self, connection: socket.socket, address: Any) -> None:
        thread = threading.Thread(target=self._connection, args=(connection, address), daemon=True)
        with self._lock:
            self._connections[connection] = _Connection(thread, IDLE, time.monotonic())
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: this connection is closed at once
            with self._lock:
                del self._connections[connection]
            connection.close()

    def _connection(self, connection: socket.socket, address: Any) -> None:
        try:
            _Handler(connection, address, self)
        except OSError:  # the client went away, or its connection was closed for it: nothing to answer
            pass
        except Exception as exc:  # a bug: that connection is closed, the others go on; said once, never a traceback
            self.receiver.note_once(
                type(exc).__name__,
                f"internal error on a connection: {type(exc).__name__}: {str(exc)[:200]} (please report it)",
            )
        finally:
            with self._lock:
                self._connections.pop(connection, None)
                self._lock.notify_all()
            with contextlib.suppress(OSError):
                connection.close()

    # -- deadlines ---------------------------------------------------------------------------

    def phase(self, connection: socket.socket, name: str) -> None:
        with self._lock:
            known = self._connections.get(connection)
            if known is not None:
                known.phase, known.since = name, time.monotonic()

    def _deadline(self, phase: str) -> float:
        config = self.config
        return {IDLE: config.idle_timeout, HEAD: config.head_timeout, BODY: config.body_timeout}.get(
            phase, config.body_timeout
        )

    def _reap(self) -> None:
        """Close the connections past their phase's deadline (the handler then ends)."""
        now = time.monotonic()
        with self._lock:
            late = [c for c, known in self._connections.items() if now - known.since > self._deadline(known.phase)]
            for connection in late:
                self._close(connection)

    def _evict(self, force: bool) -> bool:
        """Close the connection that has waited longest (idle or sending its head) for a new one."""
        now = time.monotonic()
        with self._lock:
            waiting = [
                (known.since, id(c), c)
                for c, known in self._connections.items()
                if known.phase in (IDLE, HEAD) and (force or now - known.since >= EVICT_AFTER)
            ]
            if not waiting:
                return False
            self._close(min(waiting)[2])
            return True

    def _close(self, connection: socket.socket) -> None:
        """(Under the lock.) Shut a connection down: its handler's read ends; its slot is free now."""
        del self._connections[connection]
        self.receiver.closed += 1
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)

    # -- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop accepting; close waiting connections; wait for requests in flight (bounded)."""
        self._stopping.set()
        self._thread.join()
        self.socket.close()
        with self._lock:
            for connection, known in list(self._connections.items()):
                if known.phase in (IDLE, HEAD):
                    del self._connections[connection]
                    with contextlib.suppress(OSError):
                        connection.shutdown(socket.SHUT_RDWR)
            busy = [known.thread for known in self._connections.values()]
        end = time.monotonic() + self.config.body_timeout
        for thread in busy:
            thread.join(max(0.0, end - time.monotonic()))
