"""Forwarding: accepted deliveries passed on to another URL, off the receiving path.

`Forwarder` POSTs each delivery's body, with its Content-Type and signature headers, to
one URL, one at a time, from its own thread; what became of each is a `Forwarded` (the
target's status, an error, or dropped because the queue was full). A loopback target is
reached directly, never through a proxy from the environment.
"""

from __future__ import annotations

import contextlib
import http.client
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from vevents_cli.voucherify import signatures
from vevents_cli.webhooks.http import Headers, is_loopback

STOP_GRACE = 2.0  # on stop, the forwards still queued get this long, then are dropped


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What became of a delivery passed on to `--forward`: the target's status, or an error."""

    url: str
    status: int | None
    ms: float
    error: str | None = None
    dropped: bool = False  # not sent: the queue was full
    delivery: int = 0  # which delivery (its number in the receiver's count, as in its locator)


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
        host = urlsplit(self.url).hostname
        handlers = [urllib.request.ProxyHandler({})] if host and is_loopback(host) else []
        self._opener = urllib.request.build_opener(*handlers)

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
            self._tell(replace(self.send(headers, body), delivery=delivery))

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
