"""Rendering for `verify`: one line per event, MATCH (raw or compact) or MISMATCH with causes;
a body that is not an event is checked all the same, its line noting why it is not one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vevents_cli.model import Unreadable
from vevents_cli.output.streams import Streams, drain, paint
from vevents_cli.output.text import safe
from vevents_cli.voucherify.signatures import Checked

NO_SIGNATURE = (
    "no signature: give --signature HEX (or verify a captured request or a listen --save file, "
    "which carry their headers)"
)


def line(checked: Checked, color: bool) -> str:
    label = f"{safe(checked.locator)}  {safe(checked.label)}  "
    note = "" if checked.note is None else f" — note: {safe(checked.note)}"
    match = checked.match
    if match is not None and match.matched:
        return label + paint(f"MATCH ({match.form})", "green", color) + note
    return label + paint("MISMATCH", "red", color) + " — likely: " + "; ".join(checked.causes) + note


def write(run: Any, streams: Streams, body: Callable[[Unreadable], Checked | None] | None = None) -> tuple[int, int]:
    """Every check, in input order; (checks, failures: mismatch, no signature, unreadable input).

    `body` checks an unreadable item that kept its bytes (a body that is not an event):
    it is reported like an event, with a note; other unreadable items are error lines.
    """
    checked = failed = 0

    def emit(result: Checked) -> None:
        nonlocal checked, failed
        if not result.given:
            failed += 1
            streams.write_err(f"vevents: {safe(result.locator)}  {safe(result.label)}  {NO_SIGNATURE}", "red")
            return
        checked += 1
        if not (result.match and result.match.matched):
            failed += 1
        streams.out.write((line(result, streams.color) + "\n").encode())
        streams.out.flush()

    def unreadable(item: Unreadable) -> None:
        nonlocal failed
        result = body(item) if body is not None else None
        if result is None:
            failed += 1
            streams.unreadable(item)
        else:
            emit(result)

    drain(run, streams, emit, unreadable=unreadable)
    return checked, failed
