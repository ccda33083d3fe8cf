"""Where the bundled data lives: `schemas/` and `samples/`.

In a wheel they are installed inside the package (vevents_cli/schemas, vevents_cli/samples);
in a source checkout (editable install, tests) they are the repo's top-level folders.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson

_PACKAGE = Path(__file__).resolve().parent


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
