"""Reporters for `validate`: text lines, one JSON document, JUnit XML, GitHub annotations.

Like the renderers, reporters only render what the pipeline produced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import orjson

from vevents_cli.pipeline import Item, Tally
from vevents_cli.records import Unreadable
from vevents_cli.summary import Summary


def summary_line(tally: Tally) -> str:
    line = f"{tally.valid} valid, {tally.invalid} invalid, {tally.unreadable} unreadable"
    return line + (f" ({tally.filtered} filtered out)" if tally.filtered else "")


def _type(s: Summary) -> str:
    event = s.event
    return event.type or event.name or "?"


def text_lines(s: Summary) -> list[str]:
    """`SOURCE:LINE TYPE POINTER: message`, one per error (nothing for a valid event)."""
    verdict = s.verdict
    if verdict is None or verdict.valid is not False:
        return []
    return [f"{s.event.locator} {_type(s)} {e.path or '/'}: {e.message}" for e in verdict.errors]


Output = tuple[list[str], str | None] | None  # (stdout lines, a note for stderr), per event


def text(item: Item) -> Unreadable | Output:
    """`validate`'s text output for one item (run in worker processes, see `parallel`)."""
    return item if isinstance(item, Unreadable) else (text_lines(item), note_line(item))


def quiet(item: Item) -> None:
    """`validate -q`: nothing per item (the tally still counts it)."""
    return None


def github(item: Item) -> Output:
    return github_lines(item), None


def note_line(s: Summary) -> str | None:
    verdict = s.verdict
    if verdict is None or not verdict.note:
        return None
    return f"{s.event.locator} {_type(s)}: {verdict.note}"


# --- JSON ---------------------------------------------------------------------------------


def event_dict(s: Summary) -> dict[str, Any]:
    event, verdict = s.event, s.verdict
    return {
        "source": event.locator.source,
        "line": event.locator.line,
        "index": event.locator.index,
        "dialect": event.dialect,
        "type": event.type,
        "valid": verdict.valid if verdict else None,
        "errors": [
            {"path": e.path, "message": e.message, "validator": e.validator}
            for e in (verdict.errors if verdict else ())
        ],
    }


def unreadable_dict(item: Unreadable) -> dict[str, Any]:
    return {"source": item.locator.source, "line": item.locator.line, "error": str(item.reason)}


def json_document(items: Iterable[Item], tally: Tally, only_invalid: bool = False) -> bytes:
    events: list[dict[str, Any]] = []
    unreadable: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Unreadable):
            unreadable.append(unreadable_dict(item))
        elif not (only_invalid and item.verdict and item.verdict.valid):
            events.append(event_dict(item))
    document = {
        "events": events,
        "unreadable": unreadable,
        "summary": {
            "events": tally.events,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "unreadable": tally.unreadable,
        },
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


# --- JUnit ----------------------------------------------------------------------------------


def junit_document(items: Iterable[Item], tally: Tally) -> bytes:
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="vevents validate")
    cases = 0
    for item in items:
        cases += 1
        if isinstance(item, Unreadable):
            case = ET.SubElement(suite, "testcase", classname=item.locator.source, name=str(item.locator))
            ET.SubElement(case, "error", message=item.reason, type="unreadable").text = str(item)
            continue
        case = ET.SubElement(
            suite, "testcase", classname=item.event.locator.source, name=f"{item.event.locator} {_type(item)}"
        )
        lines = text_lines(item)
        if lines:
            first = item.verdict.errors[0] if item.verdict else None
            message = f"{first.path or '/'}: {first.message}" if first else "invalid"
            ET.SubElement(case, "failure", message=message, type="invalid").text = "\n".join(lines)
    suite.set("tests", str(cases))
    suite.set("failures", str(tally.invalid))
    suite.set("errors", str(tally.unreadable))
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"


# --- GitHub annotations ----------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(item: Item) -> list[str]:
    """`::error file=...,line=...::message` workflow commands."""
    if isinstance(item, Unreadable):
        where = f"file={_escape_property(item.locator.source)},line={max(item.locator.line, 1)}"
        return [f"::error {where},title=unreadable::{_escape_data(item.reason)}"]
    verdict = item.verdict
    if verdict is None or verdict.valid is not False:
        return []
    loc = item.event.locator
    where = f"file={_escape_property(loc.source)},line={loc.line},title={_escape_property(_type(item))}"
    return [f"::error {where}::{_escape_data((e.path or '/') + ': ' + e.message)}" for e in verdict.errors]


def write_lines(out: IO[bytes], lines: Iterable[str]) -> None:
    for line in lines:
        out.write(line.encode() + b"\n")
