"""Rendering for `listen`: one console line per request, in the order they were answered.

A delivery's line is its HTTP status, its signature verdict and the event's row in the
`show --table` layout (`show.table_layout`, sized for typical values as deliveries come
one by one; tab-separated whole values in a pipe); a mismatch adds a line of likely
causes; a refused request (404, 405, 413) is one line; a forwarded delivery adds the
target's answer (a redirect with its Location, not followed; or that it was dropped: the
forwarding queue was full), with the event's
type and id, always after the delivery's own line (a forward told earlier waits for it);
a receiver under pressure says so once, on stderr. Lines come from the main thread (the
pipeline's results) and from the receiver's threads, so they are written whole, under a
lock. Every string from a request passes through `text.safe`.
"""

from __future__ import annotations

import threading
from typing import Any

from vevents_cli.model import Summary, Unreadable
from vevents_cli.output.show import row_text, row_values, table_header, table_layout
from vevents_cli.output.streams import Streams, drain, paint
from vevents_cli.output.text import safe
from vevents_cli.webhooks.forward import Forwarded
from vevents_cli.webhooks.http import is_loopback
from vevents_cli.webhooks.receive import Config
from vevents_cli.webhooks.server import open_files_limit

SIG_WIDTH = 10
LEAD = 4 + SIG_WIDTH + 1  # "200 " and the signature cell before the event's row
SIGNATURE_CELL = {
    "missing": ("missing", "yellow"),
    "unchecked": ("unchecked", "dim"),
    "raw": ("✓ raw", "green"),
    "compact": ("✓ compact", "green"),
    "mismatch": ("✗ mismatch", "red"),
}


class Printer:
    """Writes listen's lines whole, under a lock. `width`: the terminal's (None: a pipe,
    tab-separated whole values); `forwarding`: each accepted delivery is also forwarded, and
    its forward's line waits for the delivery's own."""

    def __init__(self, streams: Streams, width: int | None = None, forwarding: bool = False) -> None:
        self.streams = streams
        self.color = streams.color
        self.layout = table_layout(width, color=streams.color, lead=LEAD)
        self.forwarding = forwarding
        self._lock = threading.Lock()
        self._printed: dict[int, str] = {}  # delivery number -> what it was, its forward still to come
        self._early: dict[int, Forwarded] = {}  # forwards told before their delivery's line

    def say(self, *lines: str) -> None:
        with self._lock:
            self._write(lines)

    def note(self, text: str) -> None:
        """A line about the receiver itself (on stderr), whole, between delivery lines."""
        with self._lock:
            self.streams.note(safe(text))

    def header(self) -> None:
        head = "status\tsignature\t" if self.layout.tabs else "st  " + "signature".ljust(SIG_WIDTH) + " "
        self.say(paint(head, "bold", self.color) + table_header(self.layout))

    def _head(self, status: int, signature: str) -> str:
        text, style = SIGNATURE_CELL[signature]
        gap = "\t" if self.layout.tabs else " "
        cell = text if self.layout.tabs else text.ljust(SIG_WIDTH)
        return (
            paint(str(status), "green" if status == 200 else "red", self.color)
            + gap
            + paint(cell, style, self.color)
            + gap
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
            number, what = item.locator.line, "not an event"
        else:
            cells = row_text(row_values(item), self.layout).decode().rstrip("\n")
            line = self._head(delivery.status, delivery.signature) + cells
            number, what = (
                item.event.locator.line,
                " ".join(safe(x) for x in (item.event.type or "?", item.event.id) if x),
            )
        lines = [line]
        if delivery.causes:
            lines.append(paint("    signature mismatch — likely: " + "; ".join(delivery.causes), "dim", self.color))
        with self._lock:
            early = self._early.pop(number, None) if self.forwarding and delivery.status == 200 else None
            if early is not None:
                lines.append(self._forward_line(early, what))
            elif self.forwarding and delivery.status == 200:
                self._printed[number] = what
            self._write(lines)

    def forwarded(self, f: Forwarded) -> None:
        """A forward's line, after its delivery's (held until that is printed)."""
        with self._lock:
            what = self._printed.pop(f.delivery, None)
            if what is None:
                self._early[f.delivery] = f
                return
            self._write([self._forward_line(f, what)])

    def _write(self, lines: list[str] | tuple[str, ...]) -> None:
        self.streams.out.write("".join(line + "\n" for line in lines).encode())
        self.streams.out.flush()

    def _forward_line(self, f: Forwarded, what: str) -> str:
        url = safe(f.url)
        if f.dropped:
            return paint(f"    → {url}: not forwarded, dropped ({safe(f.error)}) · {what}", "yellow", self.color)
        if f.location is not None:
            return paint(
                f"    → {url}: {f.status} in {f.ms:.0f} ms, a redirect to {safe(f.location)} (not followed) · {what}",
                "red",
                self.color,
            )
        if f.status is not None:
            ok = 200 <= f.status < 300
            return paint(f"    → {url}: {f.status} in {f.ms:.0f} ms · {what}", "green" if ok else "red", self.color)
        return paint(f"    → {url}: failed after {f.ms:.0f} ms ({safe(f.error)}) · {what}", "red", self.color)


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
