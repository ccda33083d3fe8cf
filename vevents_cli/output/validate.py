"""Reporters for `validate`, registered by name in `REPORTERS`: text, quiet, json, junit, github.

A reporter is two functions: `project` turns one summary into what the report needs of it
(run where the events are, perhaps in a worker process), `write` turns a run's projected
results into the report. Text goes through `text.safe` (it may reach a terminal);
JSON, JUnit and GitHub annotations keep exact values, escaped as each format requires.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from vevents_cli.model import Summary, Tally, Unreadable
from vevents_cli.output.streams import Streams, drain
from vevents_cli.output.text import safe


@dataclass(frozen=True, slots=True)
class Options:
    only_invalid: bool = False  # JSON: leave valid events out of `events`


def summary_line(tally: Tally) -> str:
    line = f"{tally.valid} valid, {tally.invalid} invalid, {tally.unreadable} unreadable"
    return line + (f" ({tally.filtered} filtered out)" if tally.filtered else "")


def _type(s: Summary) -> str:
    event = s.event
    return event.type or event.name or "?"


def _errors(s: Summary) -> tuple[Any, ...]:
    verdict = s.verdict
    return verdict.errors if verdict is not None and verdict.valid is False else ()


# --- text -----------------------------------------------------------------------------------


def text_lines(s: Summary) -> list[str]:
    """`SOURCE:LINE TYPE POINTER: message`, one per error (nothing for a valid event)."""
    where = f"{safe(str(s.event.locator))} {safe(_type(s))}"
    return [f"{where} {safe(e.path or '/')}: {safe(e.message)}" for e in _errors(s)]


def note_line(s: Summary) -> str | None:
    verdict = s.verdict
    if verdict is None or not verdict.note:
        return None
    return f"{safe(str(s.event.locator))} {safe(_type(s))}: {safe(verdict.note)}"


def text_project(s: Summary, options: Options) -> tuple[bytes, str | None]:
    lines = text_lines(s)
    return "".join(line + "\n" for line in lines).encode(), note_line(s)


def text_write(run: Any, streams: Streams, options: Options) -> None:
    out = streams.out

    def emit(result: tuple[bytes, str | None]) -> None:
        data, note = result
        if data:
            out.write(data)
        if note:
            out.flush()
            streams.note(note)

    drain(run, streams, emit)
    out.write((summary_line(run.tally) + "\n").encode())
    out.flush()


def quiet_project(s: Summary, options: Options) -> None:
    return None


def quiet_write(run: Any, streams: Streams, options: Options) -> None:
    """Only the summary line: unreadable input is counted there, not reported line by line."""
    drain(run, streams, lambda _: None, unreadable=lambda _: None, notes=False)
    streams.out.write((summary_line(run.tally) + "\n").encode())
    streams.out.flush()


# --- JSON ---------------------------------------------------------------------------------


def event_dict(s: Summary) -> dict[str, Any]:
    event = s.event
    return {
        "source": event.locator.source,
        "line": event.locator.line,
        "index": event.locator.index,
        "dialect": event.dialect,
        "type": event.type,
        "valid": s.valid,
        "errors": [{"path": e.path, "message": e.message, "validator": e.validator} for e in _errors(s)],
    }


def json_project(s: Summary, options: Options) -> dict[str, Any] | None:
    return None if options.only_invalid and s.valid else event_dict(s)


def unreadable_dict(item: Unreadable) -> dict[str, Any]:
    return {"source": item.locator.source, "line": item.locator.line, "error": str(item.reason)}


def json_write(run: Any, streams: Streams, options: Options) -> None:
    events: list[dict[str, Any]] = []
    unreadable: list[dict[str, Any]] = []
    drain(run, streams, lambda event: event is not None and events.append(event),
          unreadable=lambda item: unreadable.append(unreadable_dict(item)))
    tally = run.tally
    document = {
        "events": events,
        "unreadable": unreadable,
        "summary": {"events": tally.events, "valid": tally.valid, "invalid": tally.invalid,
                    "unreadable": tally.unreadable},
    }
    streams.out.write(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    streams.out.flush()


# --- JUnit ----------------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: characters it cannot are written as visible escapes."""
    return _NOT_XML.sub(lambda m: safe(m.group()), text)


def junit_project(s: Summary, options: Options) -> tuple[str, str, str | None, str]:
    """(classname, name, failure message or None, failure text)."""
    loc = s.event.locator
    lines = [f"{loc} {_type(s)} {e.path or '/'}: {e.message}" for e in _errors(s)]
    first = _errors(s)[0] if lines else None
    message = f"{first.path or '/'}: {first.message}" if first else None
    return loc.source, f"{loc} {_type(s)}", message, "\n".join(lines)


def junit_write(run: Any, streams: Streams, options: Options) -> None:
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="vevents validate")

    def unreadable(item: Unreadable) -> None:
        case = ET.SubElement(suite, "testcase", classname=_xml(item.locator.source), name=_xml(str(item.locator)))
        ET.SubElement(case, "error", message=_xml(item.reason), type="unreadable").text = _xml(str(item))

    def event(result: tuple[str, str, str | None, str]) -> None:
        classname, name, message, text = result
        case = ET.SubElement(suite, "testcase", classname=_xml(classname), name=_xml(name))
        if message is not None:
            ET.SubElement(case, "failure", message=_xml(message), type="invalid").text = _xml(text)

    drain(run, streams, event, unreadable=unreadable)
    tally = run.tally
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(tally.invalid))
    suite.set("errors", str(tally.unreadable))
    ET.indent(suite)
    streams.out.write(ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n")
    streams.out.flush()


# --- GitHub annotations ----------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_project(s: Summary, options: Options) -> bytes:
    """`::error file=...,line=...::message` workflow commands, one per error."""
    loc = s.event.locator
    where = f"file={_escape_property(loc.source)},line={loc.line},title={_escape_property(_type(s))}"
    return "".join(f"::error {where}::{_escape_data((e.path or '/') + ': ' + e.message)}\n"
                   for e in _errors(s)).encode()


def github_unreadable(item: Unreadable) -> bytes:
    where = f"file={_escape_property(item.locator.source)},line={max(item.locator.line, 1)}"
    return f"::error {where},title=unreadable::{_escape_data(item.reason)}\n".encode()


def github_write(run: Any, streams: Streams, options: Options) -> None:
    """Annotations on stdout, unreadable input included (as annotations, not error lines)."""
    out = streams.out
    drain(run, streams, out.write, unreadable=lambda item: out.write(github_unreadable(item)))
    out.write((summary_line(run.tally) + "\n").encode())
    out.flush()


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str
    project: Callable[[Summary, Options], Any]  # one summary -> what `write` needs (may run in a worker)
    write: Callable[[Any, Streams, Options], None]  # the run's results -> the report

    def projection(self, options: Options) -> Callable[[Summary], Any]:
        return functools.partial(self.project, options=options)


REPORTERS: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in (
        Reporter("text", text_project, text_write),
        Reporter("quiet", quiet_project, quiet_write),
        Reporter("json", json_project, json_write),
        Reporter("junit", junit_project, junit_write),
        Reporter("github", github_project, github_write),
    )
}
