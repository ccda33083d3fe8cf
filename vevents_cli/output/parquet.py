"""Facts as Parquet (`show --format parquet -o FILE|DIR`), typed from the facts schema.

`arrow_schema` maps a JSON Schema (the facts record's: `vevents schema facts`) to an Arrow
schema: `integer` -> int64, `number` -> float64, `string` with `format: date-time` -> a UTC
timestamp (microseconds), other strings -> string, `boolean` -> bool, an object with
`properties` -> a struct of them, one with only `additionalProperties` -> a map, an array
-> a list; a member that may be `null` is nullable. A member of any JSON type (the old
and new values of `changes`) and an object of unknown members (`payload`) are their JSON
text. `converter` turns records into rows of those types: a time that is not RFC 3339,
or a value of another type than the schema's (only in payloads outside Voucherify's
spec: the JSON record keeps it), is null.

`write` streams a run's rows into row groups of `ROW_GROUP` events (memory holds one),
in a temporary file beside the target, renamed over it once complete: a reader never
sees half a file, and an interrupted run leaves none. `-o DIR` writes part files
(`part-00000.parquet`, ...) of `PART_ROWS` events each, every one the same way.

Imported only by `show --format parquet`: pyarrow (the `arrow` extra) is loaded then.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from vevents_cli import jsonout, resources
from vevents_cli.model import Summary
from vevents_cli.output.show import summary_dict
from vevents_cli.output.stdio import WriteError
from vevents_cli.output.streams import Streams, drain
from vevents_cli.output.text import safe

ROW_GROUP = 65_536  # events per row group: what memory holds at a time
PART_ROWS = 1_048_576  # events per part file of `-o DIR`
PART_NAME = "part-{:05d}.parquet"
PART_GLOB = "part-*.parquet"
INT64 = (-(1 << 63), (1 << 63) - 1)

Node = dict[str, Any]
Convert = Callable[[Any], Any]


# --- the schema -------------------------------------------------------------------------------


def _resolved(node: Node, root: Node) -> Node:
    """`node` with a local `$ref` (`#/$defs/NAME`) replaced by what it names (its own keys kept)."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node
    target = root["$defs"][ref.removeprefix("#/$defs/")]
    return {**_resolved(target, root), **{k: v for k, v in node.items() if k != "$ref"}}


def _types(node: Node) -> tuple[set[str], bool]:
    """The node's JSON types other than null, and whether null is one of them."""
    given = node.get("type")
    types = set(given) if isinstance(given, list) else {given} if isinstance(given, str) else set()
    return types - {"null"}, "null" in types


def _kind(node: Node) -> str:
    """What a node becomes: one of the `_ARROW` keys."""
    types, _ = _types(node)
    if len(types) != 1:
        return "json"  # any JSON value (or several types): its JSON text
    (kind,) = types
    if kind == "string" and node.get("format") == "date-time":
        return "time"
    if kind == "object" and "properties" in node:
        return "struct"
    if kind == "object":
        return "map" if isinstance(node.get("additionalProperties"), dict) else "json"
    return kind


def _members(node: Node, optional: bool) -> list[tuple[str, Node]]:
    """A struct's members, in the schema's order (`optional`: those not required too)."""
    required = set(node.get("required", ()))
    return [(name, sub) for name, sub in node["properties"].items() if optional or name in required]


def arrow_type(node: Node, root: Node, optional: bool = False) -> pa.DataType:
    """The Arrow type of a JSON Schema node (see the module docstring)."""
    node = _resolved(node, root)
    kind = _kind(node)
    if kind == "struct":
        return pa.struct(_fields(node, root, optional))
    if kind == "array":
        return pa.list_(arrow_type(node.get("items", {}), root))
    if kind == "map":
        return pa.map_(pa.string(), arrow_type(node["additionalProperties"], root))
    return _ARROW[kind]


def _fields(node: Node, root: Node, optional: bool) -> list[pa.Field]:
    return [
        pa.field(name, arrow_type(sub, root), nullable=_types(_resolved(sub, root))[1] or _kind(sub) == "json")
        for name, sub in _members(node, optional)
    ]


def arrow_schema(schema: Node, *, optional: bool = False) -> pa.Schema:
    """The Arrow schema of records valid against the JSON Schema `schema` (an object with
    `properties`): its required members, in order (`optional`: every member)."""
    return pa.schema(_fields(schema, schema, optional), metadata={"json_schema_id": schema.get("$id", "")})


_ARROW: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "time": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}


# --- records -> rows --------------------------------------------------------------------------


def _integer(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and INT64[0] <= value <= INT64[1]:
        return value
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def _json(value: Any) -> str:
    return jsonout.dumps(value).decode("utf-8", "surrogatepass")


def _member(value: Any, name: str) -> Any:
    """A member of a record: a dict's key, or a fact group's attribute (the facts' dataclasses)."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


_SCALARS: dict[str, Convert] = {
    "integer": _integer,
    "number": _number,
    "time": _time,
    "string": lambda v: v if isinstance(v, str) else None,
    "boolean": lambda v: v if isinstance(v, bool) else None,
    "json": _json,
}


def converter(node: Node, root: Node, optional: bool = False) -> Convert:
    """A function from a value valid against `node` to the value of its `arrow_type`."""
    node = _resolved(node, root)
    kind = _kind(node)
    if kind == "struct":
        members = [(name, converter(sub, root)) for name, sub in _members(node, optional)]
        return lambda v: None if v is None else {name: convert(_member(v, name)) for name, convert in members}
    if kind == "array":
        item = converter(node.get("items", {}), root)
        return lambda v: [item(x) for x in v] if isinstance(v, (list, tuple)) else None
    if kind == "map":
        value_of = converter(node["additionalProperties"], root)
        return lambda v: [(str(k), value_of(x)) for k, x in v.items()] if isinstance(v, dict) else None
    scalar = _SCALARS[kind]
    return scalar if kind == "json" else lambda v: None if v is None else scalar(v)


@functools.cache
def facts_schema(raw: bool) -> tuple[pa.Schema, Convert]:
    """The Arrow schema of the facts records (`raw`: with `payload` and `headers`), and the
    function from a record to its row."""
    schema = resources.output_schema("facts")
    return arrow_schema(schema, optional=raw), converter(schema, schema, optional=raw)


def row(s: Summary, raw: bool = False) -> dict[str, Any]:
    """One event's row (a pipeline projection: made where the event is)."""
    record = summary_dict(s)
    if raw:
        headers = s.event.headers
        record = {**record, "payload": s.event.payload, "headers": dict(headers) if headers else None}
    return facts_schema(raw)[1](record)  # type: ignore[no-any-return]


# --- writing ----------------------------------------------------------------------------------


def is_folder_target(out: str) -> bool:
    """`-o DIR`: an existing folder, or a name written with a trailing slash."""
    return out.endswith(("/", os.sep)) or Path(out).is_dir()


def parts_in(folder: Path) -> list[Path]:
    """Part files already in a target folder (a run never mixes its parts with another's)."""
    return sorted(folder.glob(PART_GLOB)) if folder.is_dir() else []


class _Target:
    """The Parquet files of one run: one file, or part files in a folder; each written to a
    temporary file and renamed into place when complete."""

    def __init__(self, out: Path, schema: pa.Schema, folder: bool) -> None:
        self.out, self.schema, self.folder = out, schema, folder
        self.written: list[Path] = []
        self.parts = 0
        self.rows = 0  # in the current file
        self._writer: pq.ParquetWriter | None = None
        self._tmp: str | None = None

    def path(self) -> Path:
        return self.out / PART_NAME.format(self.parts) if self.folder else self.out

    def _open(self) -> Any:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(100):  # a name of its own, made with the usual permissions (mkstemp's are 0600)
            tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                continue
        self._tmp = str(tmp)
        self._writer = pq.ParquetWriter(self._tmp, self.schema)
        return self._writer

    def write(self, rows: list[dict[str, Any]]) -> None:
        writer = self._writer or self._open()
        writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=self.schema))
        self.rows += len(rows)
        if self.folder and self.rows >= PART_ROWS:
            self.close()

    def close(self) -> None:
        """The current file complete, in place."""
        writer, tmp = self._writer, self._tmp
        if writer is None or tmp is None:
            return
        writer.close()
        target = self.path()
        os.replace(tmp, target)
        self.written.append(target)
        self._writer, self._tmp, self.rows = None, None, 0
        self.parts += 1

    def start(self) -> None:
        """The first file begun (an empty run still gets one, typed)."""
        self._open()

    def discard(self) -> None:
        """An interrupted or failed run: no temporary file left behind."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
        self._writer, self._tmp = None, None


def write(results: Iterable[Any], streams: Streams, out: Path, raw: bool = False, folder: bool = False) -> list[Path]:
    """A run's rows (`row`) as Parquet at `out` (a file, or part files in the `folder` `out`);
    the files written. Unreadable input is reported on stderr on the way."""
    schema = facts_schema(raw)[0]
    target = _Target(out, schema, folder)
    batch: list[dict[str, Any]] = []

    def add(one: dict[str, Any]) -> None:
        batch.append(one)
        if len(batch) >= ROW_GROUP:
            target.write(batch)
            batch.clear()

    try:
        target.start()
        drain(results, streams, add)
        if batch:
            target.write(batch)
        target.close()
    except OSError as exc:
        target.discard()
        raise WriteError.of(exc, str(target.path())) from None
    except BaseException:
        target.discard()
        raise
    return target.written


def written_line(paths: list[Path], events: int) -> str:
    """What `show --format parquet` says on stderr once the files are in place."""
    where = safe(str(paths[0]) if len(paths) == 1 else f"{len(paths)} part files in {paths[0].parent}")
    return f"{events} event{'' if events == 1 else 's'} written to {where}"
