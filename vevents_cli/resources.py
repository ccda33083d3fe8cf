"""Where the bundled data lives: `schemas/` and `samples/` (the one module that knows).

In a wheel they are installed inside the package (vevents_cli/schemas, vevents_cli/samples);
in a source checkout (editable install, tests) they are the repo's top-level folders.
Files are found by names from the catalogue and dialects tables, never from input; this
module imports nothing else of the package.

Each bundled schema file has an `$id`: `SCHEMA_ID_BASE` + its path below schemas/ (so
other tools can load them); `schema_for_id` maps such an id back to the local file, so
nothing is ever fetched. `schemas/output/` holds the schemas of vevents' own JSON output
(`OUTPUT_SCHEMAS`: the `show --format json` record, the `validate --format json` document),
each file named, and its `$id` carrying, its version.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson

_PACKAGE = Path(__file__).resolve().parent
SCHEMA_ID_BASE = "https://raw.githubusercontent.com/vevents/vevents/main/schemas/"
# The schemas of vevents' own output, by the name `vevents schema` prints them under: the current version's file.
OUTPUT_SCHEMAS = {"facts": "output/facts.v1.json", "report": "output/report.v1.json"}


def _folder(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def schemas_dir() -> Path:
    return _folder("schemas")


def samples_dir() -> Path:
    return _folder("samples")


@functools.cache
def load_json(path: Path) -> Any:
    """A bundled JSON file, parsed once per process."""
    return orjson.loads(path.read_bytes())


@functools.cache
def shapes() -> dict[str, dict[str, list[str]]]:
    """Top-level `properties` and `required` of each type's data schema (for shape inference)."""
    path = schemas_dir() / "shapes.json"
    return load_json(path) if path.is_file() else {}


def schema_path(level: str, relative: str | None) -> Path | None:
    """The bundled schema file at `relative` (as the tables name it) in a level folder; None
    when there is none."""
    path = schemas_dir() / level / relative if relative else None
    return path if path is not None and path.is_file() else None


def output_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one of vevents' outputs (a key of `OUTPUT_SCHEMAS`)."""
    return load_json(schemas_dir() / OUTPUT_SCHEMAS[name])  # type: ignore[no-any-return]


def schema_id(relative: str) -> str:
    """The `$id` of the bundled schema file at `relative` (below schemas/, e.g. default/defs.json)."""
    return SCHEMA_ID_BASE + relative


def schema_for_id(uri: str) -> Path | None:
    """The bundled file whose `$id` is `uri` (its fragment ignored); None for any other URI."""
    if not uri.startswith(SCHEMA_ID_BASE):
        return None
    root = schemas_dir().resolve()
    path = (root / uri[len(SCHEMA_ID_BASE) :].split("#", 1)[0]).resolve()
    return path if path.is_relative_to(root) and path.suffix == ".json" and path.is_file() else None
