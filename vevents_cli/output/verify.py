"""Rendering for `verify`: one line per event, MATCH (raw or compact) or MISMATCH with causes."""

from __future__ import annotations

from typing import Any

from vevents_cli.output.streams import Streams, drain, paint
from vevents_cli.output.text import safe
from vevents_cli.voucherify.signatures import Checked

NO_SIGNATURE = ("no signature: give --signature HEX (or verify a captured request or a listen --save file, "
                "which carry their headers)")


def line(checked: Checked, color: bool) -> str:
    label = f"{safe(checked.locator)}  {safe(checked.label)}  "
    match = checked.match
    if match is not None and match.matched:
        return label + paint(f"MATCH ({match.form})", "green", color)
    return label + paint("MISMATCH", "red", color) + " — likely: " + "; ".join(checked.causes)


def write(run: Any, streams: Streams) -> tuple[int, int]:
    """Every check, in input order; (events checked, events that failed: mismatch, no signature)."""
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

    drain(run, streams, emit)
    return checked, failed
