"""Rendering for `listen`: one console line per request, in the order they were answered.

A delivery's line is its HTTP status, its signature verdict and the `show --table` line
of the event; a mismatch adds a line of likely causes; a refused request (404, 405, 413)
is one line; a forwarded delivery adds the target's answer (or that it was dropped: the
forwarding queue was full); a receiver under pressure says so once, on stderr. Lines come
from the main thread (the pipeline's results) and from the receiver's threads, so they
are written whole, under a lock. Every string from a request passes through `text.safe`.
"""

from __future__ import annotations

import threading
from typing import Any

from vevents_cli.model import Summary, Unreadable
from vevents_cli.output.show import table_cells, table_header
from vevents_cli.output.streams import Streams, drain, paint
from vevents_cli.output.text import safe
from vevents_cli.webhooks.forward import Forwarded
from vevents_cli.webhooks.http import is_loopback
from vevents_cli.webhooks.receive import Config
from vevents_cli.webhooks.server import open_files_limit

SIG_WIDTH = 13
SIGNATURE_CELL = {
    "missing": ("missing", "yellow"),
    "unchecked": ("unchecked", "dim"),
    "raw": ("✓ raw", "green"),
    "compact": ("✓ compact", "green"),
    "mismatch": ("✗ mismatch", "red"),
}


class Printer:
    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.color = streams.color
        self._lock = threading.Lock()

    def say(self, *lines: str) -> None:
        data = "".join(line + "\n" for line in lines).encode()
        with self._lock:
            self.streams.out.write(data)
            self.streams.out.flush()

    def note(self, text: str) -> None:
        """A line about the receiver itself (on stderr), whole, between delivery lines."""
        with self._lock:
            self.streams.note(safe(text))

    def header(self) -> None:
        self.say(paint("st  " + "signature".ljust(SIG_WIDTH), "bold", self.color) + table_header(self.color))

    def _head(self, status: int, signature: str) -> str:
        text, style = SIGNATURE_CELL[signature]
        return paint(f"{status} ", "green" if status == 200 else "red", self.color) + paint(
            text.ljust(SIG_WIDTH), style, self.color
        )

    def result(self, item: Summary | Unreadable) -> None:
        delivery = item.event.record.delivery if isinstance(item, Summary) else item.delivery
        if delivery is None:  # not from the receiver (cannot happen): an ordinary error line
            self.streams.unreadable(item)  # type: ignore[arg-type]
            return
        if isinstance(item, Unreadable):
            if delivery.status in (404, 405, 413):
                self.say(paint(f"{delivery.status} {safe(item.reason)}", "yellow", self.color))
                return
            line = self._head(delivery.status, delivery.signature) + paint(safe(item.reason), "red", self.color)
        else:
            cells = "".join(paint(text, style, self.color) for text, style in table_cells(item))
            line = self._head(delivery.status, delivery.signature) + cells
        lines = [line]
        if delivery.causes:
            lines.append(paint("    signature mismatch — likely: " + "; ".join(delivery.causes), "dim", self.color))
        self.say(*lines)

    def forwarded(self, f: Forwarded) -> None:
        url = safe(f.url)
        if f.dropped:
            self.say(paint(f"    → {url}: not forwarded, dropped ({safe(f.error)})", "yellow", self.color))
        elif f.status is not None:
            ok = 200 <= f.status < 300
            self.say(paint(f"    → {url}: {f.status} in {f.ms:.0f} ms", "green" if ok else "red", self.color))
        else:
            self.say(paint(f"    → {url}: failed after {f.ms:.0f} ms ({safe(f.error)})", "red", self.color))


def write(run: Any, printer: Printer) -> None:
    """Every request's line(s) until the receiver stops."""
    drain(run, printer.streams, printer.result, unreadable=printer.result)


def banner(streams: Streams, config: Config, host: str, port: int, cap: int | None = None) -> None:
    """Where the receiver listens and what it does, on stderr; `cap`, if the open-files
    limit allows fewer connections than --max-connections."""
    shown = f"[{host}]" if ":" in host else host
    if not is_loopback(config.host):
        streams.write_err(f"warning: listening on {safe(config.host)}, reachable from other machines", "yellow")
    checks = "required" if config.require_signature else "checked" if config.secret else "not checked (no secret)"
    streams.write_err(
        f"listening on http://{shown}:{port}{safe(config.path)} · signatures {checks}"
        + (f" · saving to {safe(str(config.save))}" if config.save else "")
        + (f" · forwarding to {safe(config.forward)}" if config.forward else "")
        + " · Ctrl-C to stop"
    )
    if cap is not None and cap < config.max_connections:
        streams.write_err(
            f"at most {cap} connections at once, not {config.max_connections}: the open-files "
            f"limit is {open_files_limit()} (ulimit -n)",
            "yellow",
        )
