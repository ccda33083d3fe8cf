"""Forwarding: accepted deliveries passed on to another URL, off the receiving path.

`Forwarder` POSTs each delivery's body, with its Content-Type and signature headers, to
one URL, one at a time, from its own thread; what became of each is a `Forwarded` (the
target's status, an error, or dropped because the queue was full). Each forward is bounded
as a whole: `timeout` seconds from connecting to the end of the answer (a target that
trickles its answer is cut off), and at most `MAX_ANSWER` bytes of the answer's body are
read (its status is what counts). A redirect is never followed: its status and `Location`
are reported. Whatever a target does, the thread goes on to the next delivery. A
loopback target is reached directly, never through a proxy from the environment.
"""

from __future__ import annotations

import contextlib
import http.client
import queue
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import SplitResult, urlsplit

from vevents_cli.voucherify import signatures
from vevents_cli.webhooks.http import Headers, is_loopback

STOP_GRACE = 2.0  # on stop, the forwards still queued get this long, then are dropped
MAX_ANSWER = 64 * 1024  # bytes of a target's answer body read at most (the rest is not waited for)
MAX_LOCATION = 200  # characters of a redirect's Location reported


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What became of a delivery passed on to `--forward`: the target's status, or an error."""

    url: str
    status: int | None
    ms: float
    error: str | None = None
    dropped: bool = False  # not sent: the queue was full
    delivery: int = 0  # which delivery (its number in the receiver's count, as in its locator)
    location: str | None = None  # a redirect's target (never followed)


class Forwarder:
    """Passes accepted deliveries on to `url`, one at a time, from its own thread.

    The receiving path only queues (`submit` never waits): a slow or dead target delays
    no answer and no next request. The queue holds `queue_size` deliveries; one that
    finds it full is dropped, and told (`on_forward`, `dropped`). `stop` waits at most
    `STOP_GRACE` seconds, never for a slow target's timeout (the thread is a daemon).
    """

    def __init__(
        self, url: str, timeout: float, queue_size: int, on_forward: Callable[[Forwarded], None] | None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.dropped = 0
        self._on_forward = on_forward
        self._lock = threading.Lock()
        self._stopped = False
        self._queue: queue.Queue[tuple[Headers, bytes, int] | None] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="vevents-forward", daemon=True)
        self._parts = urlsplit(self.url)

    def start(self) -> None:
        self._thread.start()

    def submit(self, headers: Headers, body: bytes, delivery: int = 0) -> None:
        try:
            self._queue.put_nowait((headers, body, delivery))
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
                    delivery=delivery,
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
            headers, body, delivery = item
            try:
                forwarded = self.send(headers, body)
            except Exception as exc:  # a bug: this forward failed, the next ones go on; never a traceback
                forwarded = Forwarded(self.url, None, 0.0, f"internal error: {type(exc).__name__} (please report it)")
            self._tell(replace(forwarded, delivery=delivery))

    def send(self, headers: Headers, body: bytes) -> Forwarded:
        """POST `body` to the URL: the target's status (and a redirect's Location), or why not,
        within `timeout` seconds in all."""
        names = ("content-type", signatures.SIGNATURE_HEADER)
        sent = {name: value for name, value in headers.items() if name.lower() in names}  # names as received
        sent["Content-Length"] = str(len(body))
        start = time.perf_counter()
        conn, target = _connection(self._parts, self.timeout)
        cut = threading.Event()

        def cut_off() -> None:  # the deadline: whatever the connection is waiting for ends now
            cut.set()
            with contextlib.suppress(OSError, AttributeError):  # (AttributeError: not yet connected)
                conn.sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.timeout, cut_off)
        timer.daemon = True
        status: int | None = None
        location = error = None
        timer.start()
        try:
            conn.connect()
            if cut.is_set():
                raise TimeoutError
            conn.request("POST", target, body=body, headers=sent)
            answer = conn.getresponse()
            status = answer.status
            if 300 <= status < 400:
                location = (answer.getheader("Location") or "(none)")[:MAX_LOCATION]
            answer.read(MAX_ANSWER)  # politely, within the deadline; the rest is not waited for (the status counts)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if status is None:
                error = str(exc) or type(exc).__name__
        finally:
            timer.cancel()
            conn.close()
        if cut.is_set():  # whatever was read, the answer did not come whole in time
            status, location, error = None, None, f"no whole answer within {self.timeout:g} s (--forward-timeout)"
        return Forwarded(self.url, status, (time.perf_counter() - start) * 1000, error, location=location)

    def _tell(self, forwarded: Forwarded) -> None:
        with self._lock:
            if self._stopped:
                return
        if self._on_forward is not None:
            self._on_forward(forwarded)


def _connection(parts: SplitResult, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection for `parts` (through the environment's proxy, if any applies: never for a
    loopback host) and the request target to send on it."""
    host, https = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    proxy = None if is_loopback(host) else urllib.request.getproxies()
    if proxy and urllib.request.proxy_bypass(host):  # no_proxy
        proxy = None
    via = urlsplit(proxy[parts.scheme]) if proxy and parts.scheme in proxy else None
    if via is None or not via.hostname:
        return kind(host, port, timeout=timeout), target
    if https:  # a tunnel through the proxy
        conn = kind(via.hostname, via.port or 80, timeout=timeout)
        conn.set_tunnel(host, port)
        return conn, target
    return kind(via.hostname, via.port or 80, timeout=timeout), f"http://{parts.netloc}{target}"
