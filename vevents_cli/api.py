"""The Python API: what the commands know, as plain data (dict, list, str, int, float, bool, None).

For scripts and engines (DuckDB, Arrow, pandas, Dask) that want vevents' reading of
Voucherify payloads without its command line. Four functions, each a thin call into the
same pipeline the commands run (`pipeline`: records -> recognise -> check -> summarise):

- `read(source)`: every item of a source, in input order, each one of
  - an event record: `{"source": str, "line": int, "index": int | None, "offset": int,
    "payload": dict, "raw": str, "headers": dict[str, str] | None}` -- where the value
    starts (`index`: its place in a top-level array; `offset`: characters before it on its
    first line), the parsed payload, its JSON text as read, and the HTTP headers of a
    captured request;
  - an unreadable item: `{"source": str, "line": int, "column": int | None, "unreadable": str}`
    (the reason, as the commands' `vevents: SOURCE:LINE[:COL]: reason` line gives it).
  `source` is a path (a file or a folder, walked as the commands walk it; `-`: standard
  input), a URL or a glob of URLs (`s3://`, `memory://`..., read as the commands read
  them: through fsspec, which `pip install 'vevents[remote]'` installs; without it, one
  unreadable item says so), bytes (one JSON value, a JSON array, NDJSON; gzip told by its
  content), or an iterable of lines (str or bytes, with or without their line ends).
  Notes (a folder reached twice) are not items: nothing was lost there.
- `check(payload, *, as_type=None, strict=False)`: the record `validate --format json`
  writes for the event in its `events` (type, dialect, valid, errors with their line and
  column, warnings); the JSON Schema is `$defs/event` of `vevents schema report`.
- `facts(payload, *, as_type=None)`: the record `show --format json` writes for it; its
  JSON Schema is `vevents schema facts`.
- `stats(records, *, as_type=None, strict=False, top=10)`: the document `stats --format
  json` writes for `records` (items of `read`, or payloads); as the command does, it sums
  integers beyond 64 bits exactly, read again from the items' text.

A `payload` is an event record from `read` (its locator and text are used, so the records
equal the commands' for the same input), a dict (the parsed payload: source `<payload>`,
line 1), or its JSON text as bytes or str. A payload that is not one JSON object raises
`ValueError` with the commands' reason. `as_type` is the type of a bare payload (`--as`);
an unknown name raises `ValueError`.

One compiled schema set per process and level (default, strict) serves every call
(`_schemas`). The records' shapes are versioned by their schemas (`schemas/output/`): see
README "Beyond one machine" for the API's versioning. This module is imported only by code
that uses it: the command line never imports it.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from vevents_cli import jsonout
from vevents_cli.model import Locator, Note, Read, Record, Summary, Tally, Unreadable
from vevents_cli.pipeline.config import MAX_VALUE_SIZE

if TYPE_CHECKING:
    from vevents_cli.pipeline.check import SchemaSet

__all__ = ["check", "facts", "read", "stats"]

PAYLOAD = "<payload>"  # the source name of a payload given as a dict, bytes or str
BYTES = "<bytes>"  # of bytes given to `read`
LINES = "<lines>"  # of an iterable of lines given to `read`

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | Iterable[str | bytes]
Payload = dict[str, Any] | bytes | bytearray | memoryview | str


# --- read ------------------------------------------------------------------------------------


def read(source: Source, *, max_value_size: int = MAX_VALUE_SIZE) -> Iterator[dict[str, Any]]:
    """Every event record and unreadable item of `source`, in input order (see the module's
    docstring for their shape). `max_value_size`: larger values are skipped (one unreadable item)."""
    for item in _items(source, max_value_size):
        if isinstance(item, Record):
            yield _record_dict(item)
        elif isinstance(item, Unreadable):
            yield _unreadable_dict(item)


def _items(source: Source, limit: int) -> Iterator[Read]:
    from vevents_cli.pipeline.records import problem, read_source
    from vevents_cli.pipeline.sources import Problem, Splitter, expand

    if isinstance(source, (bytes, bytearray, memoryview)):
        yield from _bytes_items(BYTES, bytes(source), limit)
    elif isinstance(source, (str, os.PathLike)):
        for found in expand([os.fspath(source)]):
            if isinstance(found, Problem):
                yield problem(found)
            else:
                yield from read_source(found, limit)
    else:
        splitter = Splitter(limit)

        def lines() -> Iterator[Any]:
            for line in source:
                data = line.encode() if isinstance(line, str) else bytes(line)
                yield from splitter.feed(data if data.endswith(b"\n") else data + b"\n")
            yield from splitter.end()

        yield from _lines_items(LINES, lines(), limit)


def _bytes_items(name: str, data: bytes, limit: int) -> Iterator[Read]:
    from vevents_cli.pipeline.sources import GZIP_MAGIC, lines

    stream: Any = io.BytesIO(data)
    if data[:2] == GZIP_MAGIC:  # gzip is told by its content, as for a file
        stream = gzip.GzipFile(fileobj=stream, mode="rb")
    yield from _lines_items(name, lines(stream, limit), limit)


def _lines_items(name: str, lines: Iterable[Any], limit: int) -> Iterator[Read]:
    from vevents_cli.pipeline.records import is_ndjson_name, read_lines

    yield from read_lines(name, lines, ndjson=is_ndjson_name(name), limit=limit)


def _record_dict(record: Record) -> dict[str, Any]:
    locator = record.locator
    return {
        "source": locator.source,
        "line": locator.line,
        "index": locator.index,
        "offset": record.offset,
        "payload": record.value,
        "raw": record.raw.decode("utf-8", "surrogateescape"),
        "headers": dict(record.headers) if record.headers is not None else None,
    }


def _unreadable_dict(item: Unreadable) -> dict[str, Any]:
    locator = item.locator
    return {"source": locator.source, "line": locator.line, "column": item.column, "unreadable": item.reason}


# --- one payload -----------------------------------------------------------------------------


def _is_read_item(value: dict[str, Any]) -> bool:
    """An item of `read` (no Voucherify payload has a top-level `line`)."""
    return (
        isinstance(value.get("source"), str)
        and isinstance(value.get("line"), int)
        and ("payload" in value or "unreadable" in value)
    )


def _record(payload: Payload) -> Record | Unreadable:
    """The record `payload` stands for (see the module docstring), or why it is not one."""
    if isinstance(payload, dict):
        if not _is_read_item(payload):
            return Record(Locator(PAYLOAD, 1), jsonout.dumps(payload), payload)
        if "unreadable" in payload:
            return Unreadable(Locator(payload["source"], payload["line"]), payload["unreadable"], payload.get("column"))
        headers = payload.get("headers")
        locator = Locator(payload["source"], payload["line"], payload.get("index"))
        raw = payload.get("raw")
        text = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else jsonout.dumps(payload["payload"])
        return Record(locator, text, payload["payload"], headers, offset=payload.get("offset") or 0)
    data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    items = [item for item in _bytes_items(PAYLOAD, data, MAX_VALUE_SIZE) if not isinstance(item, Note)]
    if len(items) == 1 or (items and all(isinstance(item, Unreadable) for item in items)):
        return items[0]  # the event, or the first reason it is not one
    if not items:
        return Unreadable(Locator(PAYLOAD, 1), "no JSON value")
    return Unreadable(Locator(PAYLOAD, 1), f"{len(items)} values, not one: read them with read()")


def _event_record(payload: Payload) -> Record:
    record = _record(payload)
    if isinstance(record, Unreadable):
        raise ValueError(str(record))
    return record


def _type(as_type: str | None) -> str | None:
    if as_type is None:
        return None
    from vevents_cli.voucherify import catalogue

    entry = catalogue.lookup(as_type)
    if entry is None:
        raise ValueError(f"unknown event type: {as_type}")
    return entry.name


@functools.cache
def _schemas(strict: bool) -> SchemaSet:
    """The compiled schemas of a level, one set per process (validators and plans kept)."""
    from vevents_cli.pipeline.check import SchemaSet

    return SchemaSet(strict)


def _summary(record: Record, as_type: str | None, strict: bool, with_facts: bool = True) -> Summary:
    """One record through recognise -> check -> summarise, as a run does it (`pipeline.runner.Stages`)."""
    from vevents_cli.pipeline import recognise, summarise

    event = recognise.recognise(record, _type(as_type))
    verdict = _schemas(strict).check(event)
    return (summarise.summarise if with_facts else summarise.verdict_only)(event, verdict)


def _plain(value: Any) -> Any:
    """A facts record's members as plain data (the fact groups are dataclasses; `changes` a tuple)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in fields}
    return value


def check(payload: Payload, *, as_type: str | None = None, strict: bool = False) -> dict[str, Any]:
    """The record `validate --format json` writes for this event (an entry of its `events`)."""
    from vevents_cli.output.validate import event_dict

    return event_dict(_summary(_event_record(payload), as_type, strict, with_facts=False))


def facts(payload: Payload, *, as_type: str | None = None) -> dict[str, Any]:
    """The record `show --format json` writes for this event."""
    from vevents_cli.output.show import summary_dict

    return {key: _plain(value) for key, value in summary_dict(_summary(_event_record(payload), as_type, False)).items()}


def stats(
    records: Iterable[Payload], *, as_type: str | None = None, strict: bool = False, top: int | None = 10
) -> dict[str, Any]:
    """The document `stats --format json` writes for these records (items of `read`, or
    payloads); `top`: rows per list (None: every row, as `--all`)."""
    from vevents_cli import stats as aggregate

    tally, collected = Tally(), aggregate.Partial()
    for payload in records:
        record = _record(payload)
        if isinstance(record, Unreadable):
            tally.count(record)
            continue
        summary = _summary(record, as_type, strict)
        tally.count(summary)
        collected.add(aggregate.row(summary, _type(as_type)))  # (it reads again exactly what orjson rounded)
    return collected.document(tally, top)
