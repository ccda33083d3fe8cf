"""`vevents listen` under attack: a flood of fast connections plus slowloris ones, and real
deliveries still answered (heavy: thousands of sockets, tens of seconds)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import resource
import signal
import subprocess
import sys
import threading
import time

import orjson
import pytest

from tests.helpers import listener, stopped_at_exit
from vevents_cli.samples import sample

SECRET = "whsec_attack_test"

# The attacker, in its own process: SLOW slowloris connections (a partial head, then a
# byte a second on each; one closed by the receiver connects again), then FAST connections
# in waves of 1,000 at once, each sending a whole request and closing without reading the
# answer. Prints "slow" once the slow ones are open, "done N" when the fast ones are all
# made; it stops when its stdin closes.
ATTACKER = r"""
import contextlib, errno, resource, selectors, socket, sys, threading, time

port, slow_count, fast_count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
slow = []
waiting = set()
selector = selectors.DefaultSelector()
for _ in range(slow_count):
    conn = socket.socket()
    conn.setblocking(False)
    conn.connect_ex(("127.0.0.1", port))
    slow.append(conn)
    selector.register(conn, selectors.EVENT_WRITE)
    waiting.add(conn)
end = time.monotonic() + 10
while waiting and time.monotonic() < end:
    for key, _ in selector.select(timeout=0.1):
        selector.unregister(key.fileobj)
        waiting.discard(key.fileobj)
        with contextlib.suppress(OSError):
            key.fileobj.send(b"POST / HTTP/1.1\r\nHost: slowloris\r\nX-a: ")
print("slow", flush=True)
stop = threading.Event()

HEAD = b"POST / HTTP/1.1\r\nHost: slowloris\r\nX-a: "
started = [True] * len(slow)  # whether each one has sent its partial head

def dribble():  # a byte a second on each; one closed by the receiver connects again at once
    while not stop.wait(1.0):
        for i, conn in enumerate(slow):
            try:
                conn.send(b"X" if started[i] else HEAD)
                started[i] = True
            except (BlockingIOError, InterruptedError):
                pass  # still connecting
            except OSError as exc:
                if not started[i] and exc.errno == errno.ENOTCONN:
                    continue
                conn.close()
                slow[i] = socket.socket()
                slow[i].setblocking(False)
                slow[i].connect_ex(("127.0.0.1", port))
                started[i] = False

made = [0]

def fast():  # waves of 1,000 connections at once, each sending a whole request and closing
    while made[0] < fast_count and not stop.is_set():
        wave = []
        with selectors.DefaultSelector() as sel:
            for _ in range(min(1000, fast_count - made[0])):
                conn = socket.socket()
                conn.setblocking(False)
                conn.connect_ex(("127.0.0.1", port))
                sel.register(conn, selectors.EVENT_WRITE)
                wave.append(conn)
                made[0] += 1
            left, end = len(wave), time.monotonic() + 5
            while left and time.monotonic() < end:
                for key, _ in sel.select(timeout=0.1):
                    sel.unregister(key.fileobj)
                    left -= 1
                    with contextlib.suppress(OSError):
                        key.fileobj.send(b"GET /nothing HTTP/1.1\r\nHost: fast\r\n\r\n")
        for conn in wave:
            conn.close()

threading.Thread(target=dribble, daemon=True).start()
fast()
print("done", made[0], flush=True)
sys.stdin.read()
stop.set()
"""


def _more_files() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))


@pytest.mark.heavy
def test_10000_fast_and_2000_slowloris_connections_leave_real_deliveries_answered() -> None:
    body = orjson.dumps(sample("voucher.published"))
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    env = {"VOUCHERIFY_WEBHOOK_SECRET": SECRET}
    with listener("--require-signature", env=env, stdout=subprocess.DEVNULL, preexec_fn=_more_files) as srv:
        attacker = subprocess.Popen(
            [sys.executable, "-c", ATTACKER, str(srv.port), "2000", "10000"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with stopped_at_exit(attacker):
            assert attacker.stdout is not None
            assert attacker.stdout.readline() == b"slow\n"
            results: list[int | str] = []
            waits: list[float] = []

            def deliver() -> None:  # 5 deliveries each, a moment apart, while the flood goes on
                for _ in range(5):
                    time.sleep(0.5)
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20)
                    t0 = time.monotonic()
                    try:
                        conn.request("POST", "/", body, {"X-Voucherify-Signature": signature})
                        results.append(conn.getresponse().status)
                    except OSError as exc:
                        results.append(type(exc).__name__)
                    finally:
                        conn.close()
                        waits.append(time.monotonic() - t0)

            senders = [threading.Thread(target=deliver) for _ in range(4)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join()
            done = attacker.communicate(b"", timeout=120)[0]
        srv.proc.send_signal(signal.SIGINT)
        _, err = srv.proc.communicate(timeout=60)
    print(f"\nlongest wait for an answer {max(waits):.1f} s; ", sorted(round(w, 1) for w in waits))
    assert done == b"done 10000\n"
    assert results == [200] * 20, results
    assert srv.proc.returncode == 0 and b"Traceback" not in err, err.decode()
