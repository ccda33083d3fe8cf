"""Rendering for `verify`, registered by name in `FORMATS`: text, json, github.

Every check gets a verdict: MATCH (raw or compact: which form of the body was signed),
MISMATCH (with likely causes) or NO SIGNATURE. A body that is not an event is checked all the
same, its report noting why it is not one. Text: one line per event on stdout, NO SIGNATURE
as an error line on stderr. JSON: one document, like `validate --format json`: `events` (one
record per check, in input order), `unreadable`, `summary`. GitHub: an `::error` workflow
command per mismatch, missing signature and unreadable item, then the summary line. Text goes
through `text.safe`; JSON and annotations keep exact values, escaped as each format requires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vevents_cli import jsonout
from vevents_cli.model import Unreadable
from vevents_cli.output.streams import Streams, drain, paint
from vevents_cli.output.text import plural, safe
from vevents_cli.output.validate import _escape_data, _escape_property, github_unreadable
from vevents_cli.voucherify.signatures import Checked

NO_SIGNATURE = (
    "no signature: give --signature HEX (or verify a captured request or a listen --save file, "
    "which carry their headers)"
)
MATCH, MISMATCH, MISSING = "MATCH", "MISMATCH", "NO SIGNATURE"
_LOCATOR = re.compile(r"(?P<source>.*):(?P<line>[0-9]+)(?:\[[0-9]+\])?")


def verdict(checked: Checked) -> str:
    if not checked.given:
        return MISSING
    return MATCH if checked.match is not None and checked.match.matched else MISMATCH


def line(checked: Checked, color: bool) -> str:
    label = f"{safe(checked.locator)}  {safe(checked.label)}  "
    note = "" if checked.note is None else f" — note: {safe(checked.note)}"
    match = checked.match
    if match is not None and match.matched:
        return label + paint(f"MATCH ({match.form})", "green", color) + note
    return label + paint("MISMATCH", "red", color) + " — likely: " + "; ".join(checked.causes) + note


def record(checked: Checked) -> dict[str, Any]:
    """One check in the JSON document."""
    found = verdict(checked)
    return {
        "locator": checked.locator,
        "type": checked.label,
        "verdict": found,
        "how": checked.match.form if found == MATCH and checked.match is not None else None,
        "causes": list(checked.causes) if found == MISMATCH else [],
        "note": checked.note,
    }


def annotation(checked: Checked) -> bytes:
    """`::error file=...,line=...,title=...::message` for a check that failed ("" for a match)."""
    found = verdict(checked)
    if found == MATCH:
        return b""
    place = _LOCATOR.fullmatch(checked.locator)
    where = f"file={_escape_property(place['source'])},line={max(int(place['line']), 1)}," if place is not None else ""
    why = NO_SIGNATURE if found == MISSING else "likely: " + "; ".join(checked.causes)
    note = "" if checked.note is None else f" (note: {checked.note})"
    message = f"{checked.locator} {checked.label}: {found} — {why}{note}"
    title = "signature mismatch" if found == MISMATCH else "no signature"
    return f"::error {where}title={title}::{_escape_data(message)}\n".encode()


@dataclass
class Count:
    """What a run of checks found, for the exit status and the summaries."""

    verdicts: dict[str, int] = field(default_factory=lambda: {MATCH: 0, MISMATCH: 0, MISSING: 0})
    unreadable: int = 0

    @property
    def checked(self) -> int:
        return self.verdicts[MATCH] + self.verdicts[MISMATCH]

    @property
    def failed(self) -> int:
        return self.verdicts[MISMATCH] + self.verdicts[MISSING] + self.unreadable

    def line(self) -> str:
        return (
            f"{plural(self.checked, 'signature')} checked: {self.verdicts[MATCH]} match, "
            f"{self.verdicts[MISMATCH]} mismatch, {self.verdicts[MISSING]} without a signature, "
            f"{self.unreadable} unreadable"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "events": sum(self.verdicts.values()),
            "match": self.verdicts[MATCH],
            "mismatch": self.verdicts[MISMATCH],
            "no_signature": self.verdicts[MISSING],
            "unreadable": self.unreadable,
            "ok": self.failed == 0 and self.checked > 0,
        }


def write(
    run: Any, streams: Streams, body: Callable[[Unreadable], Checked | None] | None = None, fmt: str = "text"
) -> tuple[int, int]:
    """Every check, in input order, in `fmt`; (checks, failures: mismatch, no signature, unreadable input).

    `body` checks an unreadable item that kept its bytes (a body that is not an event):
    it is reported like an event, with a note; other unreadable items are reported as the
    format reports them (error lines, `unreadable` entries, annotations).
    """
    count = Count()
    records: list[dict[str, Any]] = []
    unreadable_items: list[dict[str, Any]] = []
    document, github = fmt == "json", fmt == "github"

    def emit(result: Checked) -> None:
        found = verdict(result)
        count.verdicts[found] += 1
        if document:
            records.append(record(result))
        elif github:
            streams.out.write(annotation(result))
        elif found == MISSING:
            streams.write_err(f"vevents: {safe(result.locator)}  {safe(result.label)}  {NO_SIGNATURE}", "red")
        else:
            streams.out.write((line(result, streams.color) + "\n").encode())
            streams.out.flush()

    def unreadable(item: Unreadable) -> None:
        result = body(item) if body is not None else None
        if result is not None:
            emit(result)
            return
        count.unreadable += 1
        if document:
            unreadable_items.append(
                {"source": item.locator.source, "line": item.locator.line, "column": item.column, "error": item.reason}
            )
        elif github:
            streams.out.write(github_unreadable(item))
        else:
            streams.unreadable(item)

    drain(run, streams, emit, unreadable=unreadable)
    if document:
        streams.out.write(
            jsonout.dumps(
                {"events": records, "unreadable": unreadable_items, "summary": count.summary()},
                pretty=True,
                newline=True,
            )
        )
    elif github:
        streams.out.write((count.line() + "\n").encode())
    streams.out.flush()
    return count.checked, count.failed
