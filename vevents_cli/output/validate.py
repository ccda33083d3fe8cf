"""Reporters for `validate`, registered by name in `REPORTERS`: text, quiet, json, junit, github.

A reporter is two functions: `project` turns one summary into what the report needs of it
(run where the events are, perhaps in a worker process), `write` turns a run's projected
results into the report. Text goes through `text.safe` (it may reach a terminal);
JSON, JUnit and GitHub annotations keep exact values, escaped as each format requires.

Every format reports against the expectation (`--expect valid|invalid`, `Options.expect`):
an event is `ok` (`model`'s pass rules) when its verdict is the one expected, and only
events that are not ok are reported as problems; `passed` is the one rule for the exit
status and the JSON summary. Errors are reported at the line (and column) of the failing
member in the source (`locate`), found only for invalid events. Warnings (what may be
wrong without making the event invalid: type agreement, unless --strict) are reported in
every format, and never change a verdict.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol

import orjson

from vevents_cli import jsonout
from vevents_cli.model import (
    INVALID,
    VALID,
    Expectation,
    Locator,
    SchemaError,
    Summary,
    Tally,
    Unreadable,
    not_as_expected,
    ok,
    passed,
    unreadable_ok,
)
from vevents_cli.output.locate import in_source
from vevents_cli.output.streams import Lines, Streams, drain
from vevents_cli.output.text import command_free, safe, visible

if TYPE_CHECKING:
    from xml.etree import ElementTree as ET


@dataclass(frozen=True, slots=True)
class Options(Expectation):
    """What the run is checked against (`Expectation`), and how the report is written."""

    only_invalid: bool = False  # JSON: leave valid events out of `events`


def summary_line(tally: Tally, options: Options | None = None) -> str:
    line = f"{tally.valid} valid, {tally.invalid} invalid, {tally.unreadable} unreadable"
    line += f" ({tally.filtered} filtered out)" if tally.filtered else ""
    if tally.warnings:  # only when there are some: the line stays as it was for runs without
        line += f", {tally.warnings} warning{'' if tally.warnings == 1 else 's'}"
    if options is not None and options.expect == INVALID:
        line += f"; {not_as_expected(tally, options)} not as expected (--expect invalid)"
    return line


def unexpected(options: Options) -> str:
    """What an event that is not as expected is told."""
    return f"expected {options.expect}, but it is {VALID if options.expect == INVALID else INVALID}"


def _type(s: Summary) -> str:
    event = s.event
    return event.type or event.name or "?"


def _errors(s: Summary) -> tuple[Any, ...]:
    verdict = s.verdict
    return verdict.errors if verdict is not None and verdict.valid is False else ()


def _warnings(s: Summary) -> tuple[Any, ...]:
    """What may be wrong but does not make the event invalid (type agreement, unless --strict)."""
    return s.verdict.warnings if s.verdict is not None else ()


def located(s: Summary) -> list[tuple[SchemaError, int, int | None]]:
    """Each error with the line and column of its member in the source (invalid events only)."""
    record = s.event.record
    return [(e, *in_source(record, e.path)) for e in _errors(s)]


def _at(source: str, line: int, column: int | None) -> str:
    return f"{source}:{line}" + (f":{column}" if column is not None else "")


# --- text -----------------------------------------------------------------------------------


def text_lines(s: Summary, options: Options = Options()) -> list[str]:
    """What is not as expected about an event, one line each (nothing when it is as expected):
    `SOURCE:LINE[:COL] TYPE POINTER: message` per error, at the failing member's line;
    `SOURCE:LINE TYPE: expected invalid, but it is valid` under `--expect invalid`;
    then `SOURCE:LINE TYPE POINTER: warning: message` per warning, whatever the verdict."""
    source, kind = safe(s.event.locator.source), safe(_type(s))
    warnings = [
        f"{source}:{s.event.locator.line} {kind} {safe(w.path or '/')}: warning: {safe(w.message)}"
        for w in _warnings(s)
    ]
    if ok(s, options):
        return warnings
    if options.expect == INVALID:
        return [f"{source}:{s.event.locator.line} {kind}: {unexpected(options)}", *warnings]
    return [
        f"{_at(source, line, column)} {kind} {safe(e.path or '/')}: {safe(e.message)}" for e, line, column in located(s)
    ] + warnings


def note_line(s: Summary) -> str | None:
    verdict = s.verdict
    if verdict is None or not verdict.note:
        return None
    return f"{safe(str(s.event.locator))} {safe(_type(s))}: {safe(verdict.note)}"


def text_project(s: Summary, options: Options) -> bytes | tuple[bytes, str]:
    """The event's lines; with its note, when it has one (bare bytes join with their neighbours
    where the event is, so the parent writes a chunk's lines at once)."""
    data = "".join(line + "\n" for line in text_lines(s, options)).encode()
    note = note_line(s)
    return data if note is None else (data, note)


def text_write(run: Any, streams: Streams, options: Options) -> None:
    out = streams.out

    def emit(result: bytes | tuple[bytes, str]) -> None:
        if isinstance(result, bytes):
            if result:
                out.write(result)
            return
        data, note = result
        if data:
            out.write(data)
        if note:
            out.flush()
            streams.note(note)

    drain(run, streams, emit, unreadable=None if not unreadable_ok(options) else lambda _: None)
    out.write((summary_line(run.tally, options) + "\n").encode())
    out.flush()


def quiet_project(s: Summary, options: Options) -> None:
    return None


def quiet_write(run: Any, streams: Streams, options: Options) -> None:
    """The summary line, after one error line on stderr per unreadable item (as the text report
    prints them, so CI knows where); no line per invalid event, no notes."""
    drain(run, streams, lambda _: None, unreadable=None if not unreadable_ok(options) else lambda _: None, notes=False)
    streams.out.write((summary_line(run.tally, options) + "\n").encode())
    streams.out.flush()


# --- JSON ---------------------------------------------------------------------------------


def event_dict(s: Summary, options: Options = Options()) -> dict[str, Any]:
    event = s.event
    return {
        "source": event.locator.source,
        "line": event.locator.line,
        "index": event.locator.index,
        "dialect": event.dialect,
        "type": event.type,
        "valid": s.valid,
        "expected": options.expect,
        "ok": ok(s, options),
        "errors": [
            {"path": e.path, "message": e.message, "validator": e.validator, "line": line, "column": column}
            for e, line, column in located(s)
        ],
        "warnings": [{"path": w.path, "message": w.message, "validator": w.validator} for w in _warnings(s)],
    }


def json_project(s: Summary, options: Options) -> bytes | None:
    """One event's entry in the document's `events`, as the bytes it takes there, after the
    separator `,` that the document's first entry drops (made where the event is, perhaps in a
    worker, where runs of them are joined: the parent only writes them)."""
    if options.only_invalid and s.valid:
        return None
    verdict = s.verdict
    if verdict is not None and verdict.valid is True and not verdict.warnings:
        return _valid_entry(s, options)
    return _entry(s, options)


def _entry(s: Summary, options: Options) -> bytes:
    return _EVENT_START + jsonout.dumps(event_dict(s, options), pretty=True).replace(b"\n", _EVENT_LINE)


_EVENT_LINE = b"\n    "  # an item of the document's `events` is two levels deep
_EVENT_START = b"," + _EVENT_LINE
_SOURCE = _EVENT_START + b'{\n      "source": '
_VALID_TAILS: dict[tuple[str, str | None, Options], bytes | None] = {}  # None: the template did not match
_KINDS = 4096  # templates kept at most


def _valid_entry(s: Summary, options: Options) -> bytes:
    """A valid event's entry with nothing more to say: only its source, line and index differ
    from any other valid event's of its dialect and type, so the rest (from `"dialect"` on) is
    made once per kind by `_entry` and checked against it, byte for byte, when it is made."""
    event = s.event
    key = (event.dialect, event.type, options)
    tail = _VALID_TAILS.get(key, b"")
    head = _head(event.locator)
    if tail == b"" or head is None:
        whole = _entry(s, options)
        if head is not None and len(_VALID_TAILS) < _KINDS:  # (types named by payloads are not bounded)
            at = whole.find(b',\n      "dialect": ')
            _VALID_TAILS[key] = whole[at:] if at > 0 and head + whole[at:] == whole else None
        return whole
    if tail is None:
        return _entry(s, options)
    return head + tail


def _head(locator: Locator) -> bytes | None:
    """An entry's first members, to its `index`; None: its source is not text orjson writes."""
    source = _json_string(locator.source)
    if source is None:
        return None
    index = b"null" if locator.index is None else b"%d" % locator.index
    return _SOURCE + source + b',\n      "line": %d,\n      "index": %s' % (locator.line, index)


@functools.lru_cache(maxsize=64)
def _json_string(text: str) -> bytes | None:
    try:
        return orjson.dumps(text)
    except orjson.JSONEncodeError:  # a lone surrogate: `jsonout.dumps` writes the whole entry
        return None


def unreadable_dict(item: Unreadable, options: Options = Options()) -> dict[str, Any]:
    return {
        "source": item.locator.source,
        "line": item.locator.line,
        "column": item.column,
        "error": str(item.reason),
        "ok": unreadable_ok(options),
    }


def json_write(run: Any, streams: Streams, options: Options) -> None:
    """The document, written as the events arrive (never held): the bytes `jsonout.dumps(document,
    pretty=True)` would give. Unreadable items (few, small) are kept for the end."""
    lines = Lines(streams.out)
    unreadable: list[dict[str, Any]] = []
    count = 0

    def event(entries: bytes | None) -> None:  # one entry, or several joined
        nonlocal count
        if entries:
            lines.add(entries if count else b'{\n  "events": [' + entries[1:])
            count += 1

    drain(run, streams, event, unreadable=lambda item: unreadable.append(unreadable_dict(item, options)))
    tally = run.tally
    rest = {
        "unreadable": unreadable,
        "summary": {
            "events": tally.events,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "unreadable": tally.unreadable,
            "warnings": tally.warnings,
            "expected": options.expect,
            "not_as_expected": not_as_expected(tally, options),
            "ok": passed(tally, options),
        },
    }
    lines.add(
        (b"\n  ],\n" if count else b'{\n  "events": [],\n') + jsonout.dumps(rest, pretty=True, newline=True)[2:]
    )  # without its own opening "{\n"
    lines.flush()


# --- JUnit ----------------------------------------------------------------------------------


@functools.cache
def _not_xml() -> re.Pattern[str]:
    """What XML 1.0 cannot hold (compiled on first use: only JUnit reports need it)."""
    return re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: characters it cannot (and DEL and the C1 controls, which it
    discourages), lone surrogates among them, are written as visible escapes."""
    return _not_xml().sub(lambda m: visible(m.group()), text)


@dataclass(frozen=True, slots=True)
class Case:
    """One JUnit testcase: an event, failed when it is not as expected."""

    classname: str
    name: str
    line: int  # of the first error's member (else of the event)
    failure: str | None  # the failure's message; None: the testcase passes
    text: str  # the failure's text, or (passing) what was found, for the record
    warnings: str = ""  # for <system-out>


def junit_project(s: Summary, options: Options) -> Case:
    loc = s.event.locator
    errors = located(s)
    lines = [f"{_at(loc.source, line, column)} {_type(s)} {e.path or '/'}: {e.message}" for e, line, column in errors]
    line = errors[0][1] if errors else loc.line
    failure = None
    if not ok(s, options):
        first = errors[0][0] if errors else None
        failure = f"{first.path or '/'}: {first.message}" if first else unexpected(options)
        if not errors:
            lines = [f"{loc.source}:{loc.line} {_type(s)}: {failure}"]
    warnings = "\n".join(f"{loc} {_type(s)} {w.path or '/'}: warning: {w.message}" for w in _warnings(s))
    return Case(loc.source, f"{loc} {_type(s)}", line, failure, "\n".join(lines), warnings)


class Suite:
    """A JUnit testsuite written as its testcases come: each to a temporary file as it is made
    (never held), since the counts come first, in the suite's tag; `write` gives the bytes
    `ElementTree` gives for the whole tree. Used as a context manager (the file is removed)."""

    def __init__(self, name: str) -> None:
        import tempfile

        self.name = name
        self.tests = self.failures = self.errors = self.skipped = 0
        self._cases = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)

    def __enter__(self) -> Suite:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cases.close()

    @staticmethod
    def case(classname: str, name: str, line: int) -> ET.Element:
        from xml.etree import ElementTree as ET

        return ET.Element(
            "testcase", classname=_xml(classname), name=_xml(name), file=_xml(classname), line=str(max(line, 1))
        )

    @staticmethod
    def add(case: ET.Element, tag: str, text: str, **attributes: str) -> None:
        """A child element (failure, error, skipped, system-out) holding `text`."""
        from xml.etree import ElementTree as ET

        lines = "\n".join(map(command_free, text.split("\n")))  # a line of it may start with a name
        ET.SubElement(case, tag, {k: _xml(v) for k, v in attributes.items()}).text = _xml(lines)

    def done(self, case: ET.Element) -> None:
        from xml.etree import ElementTree as ET

        self.tests += 1
        ET.indent(case, level=1)
        self._cases.write(b"\n  " + ET.tostring(case, encoding="utf-8"))

    def write(self, out: IO[bytes]) -> None:
        import shutil
        from xml.etree import ElementTree as ET

        counts = {"tests": self.tests, "failures": self.failures, "errors": self.errors}
        if self.skipped:
            counts["skipped"] = self.skipped
        suite = ET.Element("testsuite", {"name": self.name, **{k: str(v) for k, v in counts.items()}})
        tag = ET.tostring(suite, encoding="utf-8", xml_declaration=True)  # <testsuite ... />
        if not self.tests:
            out.write(tag + b"\n")
        else:
            out.write(tag.removesuffix(b" />") + b">")
            self._cases.seek(0)
            shutil.copyfileobj(self._cases, out)
            out.write(b"\n</testsuite>\n")
        out.flush()


def junit_write(run: Any, streams: Streams, options: Options) -> None:
    """The testsuite: one testcase per event, one error per unreadable item."""
    with Suite("vevents validate") as suite:

        def unreadable(item: Unreadable) -> None:
            case = suite.case(item.locator.source, str(item.locator), item.locator.line)
            if unreadable_ok(options):
                suite.add(case, "system-out", f"unreadable, as expected: {item}")
            else:
                suite.errors += 1
                suite.add(case, "error", str(item), message=item.reason, type="unreadable")
            suite.done(case)

        def event(result: Case) -> None:
            case = suite.case(result.classname, result.name, result.line)
            if result.failure is not None:
                suite.failures += 1
                kind = INVALID if options.expect == VALID else VALID
                suite.add(case, "failure", result.text, message=result.failure, type=kind)
            out = "\n".join(filter(None, (result.text if result.failure is None else "", result.warnings)))
            if out:
                suite.add(case, "system-out", out)
            suite.done(case)

        drain(run, streams, event, unreadable=unreadable)
        suite.write(streams.out)


# --- GitHub annotations ----------------------------------------------------------------------


def _escape_data(text: str) -> str:
    """A workflow command's message, as GitHub reads it back: `%`, CR and LF percent-encoded
    (GitHub decodes them); any other character that is not printable (ESC, C1 controls,
    bidirectional overrides, undecodable bytes) as the visible escape `text.visible` writes,
    as GitHub has no encoding for them and a CI log would act on them."""
    return visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    """A workflow command's property (file, title): as a message, and `:` and `,` percent-encoded."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _place(source: str, line: int, column: int | None) -> str:
    col = f",col={column}" if column is not None else ""
    return f"file={_escape_property(source)},line={max(line, 1)}{col}"


def github_project(s: Summary, options: Options) -> bytes:
    """`::error file=...,line=...,col=...::message` workflow commands: one per error of an event
    that is not as expected, at its member's line (one for a valid event expected invalid);
    `::warning` per warning, whatever the verdict."""
    loc = s.event.locator
    title = f"title={_escape_property(_type(s))}"
    warnings = "".join(
        f"::warning {_place(loc.source, loc.line, None)},{title}::{_escape_data((w.path or '/') + ': ' + w.message)}\n"
        for w in _warnings(s)
    )
    if ok(s, options):
        return warnings.encode()
    if options.expect == INVALID:
        return (
            f"::error {_place(loc.source, loc.line, None)},{title}::{_escape_data(unexpected(options))}\n" + warnings
        ).encode()
    return (
        "".join(
            f"::error {_place(loc.source, line, column)},{title}::{_escape_data((e.path or '/') + ': ' + e.message)}\n"
            for e, line, column in located(s)
        )
        + warnings
    ).encode()


def github_unreadable(item: Unreadable) -> bytes:
    return (
        f"::error {_place(item.locator.source, item.locator.line, item.column)},title=unreadable::"
        f"{_escape_data(item.reason)}\n".encode()
    )


def github_write(run: Any, streams: Streams, options: Options) -> None:
    """Annotations on stdout, unreadable input included (as annotations, not error lines)."""
    out = streams.out
    expected = unreadable_ok(options)
    drain(run, streams, out.write, unreadable=lambda item: None if expected else out.write(github_unreadable(item)))
    out.write((summary_line(run.tally, options) + "\n").encode())
    out.flush()


# --- the registry -------------------------------------------------------------------------------


class Project(Protocol):
    """One summary -> what a reporter's `write` needs (may run in a worker)."""

    def __call__(self, s: Summary, options: Options) -> Any: ...


@dataclass(frozen=True, slots=True)
class Reporter:
    """One report format: its projection of a summary, and its writer."""

    name: str
    project: Project  # one summary -> what `write` needs (may run in a worker)
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
