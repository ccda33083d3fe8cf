"""Reporters for `send`, registered by name in `REPORTERS`: text, json, junit.

Text: one line per delivery (the HTTP status, milliseconds, attempt `#N`; its locator and
type, or type and dialect for a generated one; and why it failed: the first line of a
non-2xx body, or the error), through `text.safe`, shortened to a terminal's width; then a
summary line on stderr. JSON: one object per delivery, one a line, exact values. JUnit:
one testcase per delivery (a generated one named by its type and dialect), written with
`validate`'s `Suite`. Unreadable input is one error line (text, JSON) or an error
testcase (JUnit); every reporter counts into one `Totals`, which decides the exit status.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vevents_cli import jsonout
from vevents_cli.model import Unreadable
from vevents_cli.output.streams import Lines, Streams, drain, paint
from vevents_cli.output.text import safe, shorten
from vevents_cli.output.validate import Suite
from vevents_cli.webhooks.send import Sent


@dataclass(slots=True)
class Totals:
    """What a run of deliveries came to."""

    deliveries: int = 0
    delivered: int = 0
    failed: int = 0
    retries: int = 0
    duplicates: int = 0
    skipped: int = 0
    unreadable: int = 0

    def count(self, sent: Sent) -> None:
        if sent.outgoing.skipped is not None:
            self.skipped += 1
            return
        if sent.duplicate:
            self.duplicates += 1
        else:
            self.deliveries += 1
            self.retries += sent.attempts - 1
        if sent.answer.ok:
            self.delivered += 1 if not sent.duplicate else 0
        else:
            self.failed += 1

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreadable and bool(self.deliveries or self.skipped)


def name(sent: Sent) -> str:
    """The delivery as a person names it: its locator and type, or (generated) type and dialect."""
    item = sent.outgoing
    label = item.label if item.generated else f"{item.label}  {item.type or 'type unknown'}"
    return label + ("  (duplicate)" if sent.duplicate else "")


def outcome(sent: Sent) -> str:
    """Why a delivery failed (or was skipped), in a few words: the error, else the body's first line."""
    answer = sent.answer
    if sent.outgoing.skipped is not None:
        return f"skipped: {sent.outgoing.skipped}"
    if answer.error is not None:
        return answer.error
    return answer.first_line or ""


def text_line(sent: Sent, color: bool, width: int | None) -> str:
    answer = sent.answer
    status = "—" if answer.status is None else str(answer.status)
    style = "dim" if sent.outgoing.skipped else "green" if answer.ok else "red"
    head = f"{status:>3} {answer.ms:>5.0f} ms  #{sent.attempts}  "  # 18 columns: the longest type fits in 80
    if sent.outgoing.skipped is not None:
        head = "  —     — ms  —   "
    text = head + safe(name(sent))
    detail = outcome(sent)
    if detail:
        text += "  " + safe(detail)
    if width is not None:
        text = shorten(text, width)
    return paint(text, style, color)


def summary_line(totals: Totals) -> str:
    counted = _count(totals.deliveries, "delivery", "deliveries")
    parts = [f"{counted}: {totals.delivered} delivered (2xx), {totals.failed} failed"]
    if totals.retries:
        parts.append(_count(totals.retries, "retry", "retries"))
    if totals.duplicates:
        parts.append(_count(totals.duplicates, "duplicate", "duplicates"))
    if totals.skipped:
        parts.append(f"{totals.skipped} skipped (no bundled sample)")
    if totals.unreadable:
        parts.append(f"{totals.unreadable} unreadable")
    return " · ".join(parts)


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def text_write(run: Any, streams: Streams) -> Totals:
    totals = Totals()
    width = (streams.width or shutil.get_terminal_size().columns) if streams.out_tty else None

    def emit(sent: Sent) -> None:
        totals.count(sent)
        streams.out.write((text_line(sent, streams.color, width) + "\n").encode())
        streams.out.flush()

    def unreadable(item: Unreadable) -> None:
        totals.unreadable += 1
        streams.unreadable(item)

    drain(run, streams, emit, unreadable=unreadable)
    return totals


def record(sent: Sent) -> dict[str, Any]:
    """One delivery as JSON: exact values."""
    item, answer = sent.outgoing, sent.answer
    return {
        "locator": item.label,
        "type": item.type,
        "dialect": item.dialect,
        "event_id": item.event_id,
        "status": answer.status,
        "ms": round(answer.ms, 1),
        "attempts": sent.attempts,
        "error": None if answer.ok else outcome(sent) or f"HTTP {answer.status}",
        "duplicate": sent.duplicate,
        "skipped": item.skipped is not None,
    }


def json_write(run: Any, streams: Streams) -> Totals:
    totals = Totals()
    lines = Lines(streams.out, batch=1)

    def emit(sent: Sent) -> None:
        totals.count(sent)
        lines.add(jsonout.dumps(record(sent), newline=True))

    def unreadable(item: Unreadable) -> None:
        totals.unreadable += 1
        lines.flush()
        streams.unreadable(item)

    drain(run, streams, emit, lines, unreadable=unreadable)
    return totals


def junit_write(run: Any, streams: Streams) -> Totals:
    totals = Totals()
    with Suite("vevents send") as suite:

        def emit(sent: Sent) -> None:
            totals.count(sent)
            item = sent.outgoing
            title = f"{item.type} ({item.dialect})" + ("  (duplicate)" if sent.duplicate else "")
            case = suite.case(item.source, title if item.generated else name(sent), item.line)
            summary = f"{sent.answer.status} in {sent.answer.ms:.0f} ms, attempt {sent.attempts}"
            if item.skipped is not None:
                suite.skipped += 1
                suite.add(case, "skipped", item.skipped, message=item.skipped)
            elif not sent.answer.ok:
                suite.failures += 1
                message = outcome(sent) or f"HTTP {sent.answer.status}"
                status = "no answer" if sent.answer.status is None else f"HTTP {sent.answer.status}"
                suite.add(case, "failure", f"{status}: {message} ({summary})", message=message, type=status)
            else:
                suite.add(case, "system-out", f"event {item.event_id}: {summary}")
            suite.done(case)

        def unreadable(item: Unreadable) -> None:
            totals.unreadable += 1
            suite.errors += 1
            case = suite.case(item.locator.source, str(item.locator), item.locator.line)
            suite.add(case, "error", str(item), message=item.reason, type="unreadable")
            suite.done(case)

        drain(run, streams, emit, unreadable=unreadable)
        suite.write(streams.out)
    return totals


REPORTERS: dict[str, Callable[[Any, Streams], Totals]] = {
    "text": text_write,
    "json": json_write,
    "junit": junit_write,
}


def write(fmt: str, run: Any, streams: Streams) -> Totals:
    """The run's deliveries in format `fmt`, then the summary line on stderr."""
    totals = REPORTERS[fmt](run, streams)
    streams.write_err(summary_line(totals), "green" if totals.ok else "red")
    return totals
