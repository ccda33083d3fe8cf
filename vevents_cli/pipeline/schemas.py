"""Schema files: the bundled levels, the user's own (`--schemas DIR`), and compiling them.

Two levels ship in `schemas/`: `default` (what Voucherify really sends) and `strict` (the
vendor spec literally), and `legacy` for legacy payloads (default without `required`).
Each level's `defs.json` is registered once for every validator of that level; any other
`$ref` resolves to a local file only, a bundled one by its `$id`: never the network.

A `--schemas DIR` holds `<type or name>.json` files, or a `vevents-schemas.json` mapping of
names to files. Each of the user's schemas must be JSON, valid against its metaschema
(python-jsonschema, imported only then) and compile; anything else is a `SchemaProblem`,
a usage error raised before any input is read.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson

from vevents_cli import resources
from vevents_cli.jsonout import json_type
from vevents_cli.output.text import shorten
from vevents_cli.pipeline.messages import pointer
from vevents_cli.signals import uninterrupted

with uninterrupted():  # a signal inside the Rust extension's own imports would crash it: held until it is loaded
    import jsonschema_rs

DEFAULT, STRICT = "default", "strict"
MAPPING_FILE = "vevents-schemas.json"


class SchemaProblem(Exception):
    """A schema of the user's (`--schemas`) that cannot be used."""


def load(path: Path) -> Any:
    """A schema file, parsed once per process."""
    return resources.load_json(path)


def compile_schema(schema: Path) -> jsonschema_rs.Validator:
    """The validator of a schema file, formats checked, its references resolved locally."""
    return jsonschema_rs.validator_for(
        load(schema), validate_formats=True, registry=registry(schema.parent.parent), base_uri=schema.as_uri()
    )


def _allowed(path: Path) -> bool:
    return path.suffix == ".json" and path.is_file()


def _retrieve(uri: str) -> Any:
    """Resolve a `$ref` to a local schema file; anything else is refused (no network)."""
    bundled = resources.schema_for_id(uri)  # a bundled file, by its `$id`
    if bundled is not None:
        return load(bundled)
    if not uri.startswith("file://"):
        raise ValueError(f"remote schema reference refused: {uri}")
    path = Path(uri[len("file://") :].split("#", 1)[0])
    if not _allowed(path):
        raise ValueError(f"schema reference to a missing file: {path}")
    return load(path)


@functools.cache
def registry(level: Path) -> jsonschema_rs.Registry:
    """The shared definitions of one schema level, registered once for every validator of it.

    Other references (a user's own schema files) go through `_retrieve`: local files only.
    """
    defs = level / "defs.json"
    found = [(defs.as_uri(), load(defs))] if defs.is_file() else []
    return jsonschema_rs.Registry(found, retriever=_retrieve)


# --- the user's own schemas (`--schemas DIR`) ---------------------------------------------------


def user_schemas(folder: Path) -> dict[str, Path]:
    """`--schemas DIR`: `<type or name>.json` files, or a `vevents-schemas.json` mapping
    (`{"name": "file.json"}`, files relative to DIR). A mapping that is not that is a `SchemaProblem`."""
    folder = folder.resolve()
    mapping = folder / MAPPING_FILE
    if not mapping.is_file():
        return {p.name[: -len(".json")]: p for p in sorted(folder.glob("*.json"))}
    names = _read_json(mapping, MAPPING_FILE)
    if not isinstance(names, dict):
        raise SchemaProblem(
            f'{MAPPING_FILE}: must be an object mapping names to schema files ({{"name": '
            f'"file.json"}}), found JSON {json_type(names)}'
        )
    found: dict[str, Path] = {}
    for name, rel in names.items():
        if not isinstance(rel, str) or not rel or "\x00" in rel:
            shown = f"JSON {json_type(rel)}" if not isinstance(rel, str) else "an empty or invalid file name"
            raise SchemaProblem(f"{MAPPING_FILE}: {name!r} must name a schema file (a string), found {shown}")
        path = (folder / rel).resolve()
        try:
            is_file = path.is_file()
        except OSError:  # a name too long for the system...
            is_file = False
        if not is_file:
            raise SchemaProblem(f"{MAPPING_FILE}: {name!r} names {rel!r}, which is not a file in {folder}")
        found[name] = path
    return found


def compile_user_schema(path: Path) -> jsonschema_rs.Validator:
    """The validator of one of the user's schemas, checked against its metaschema first; a
    schema that fails either is a `SchemaProblem`."""
    _check_schema(path)
    try:
        return compile_schema(path)
    except Exception as exc:  # jsonschema-rs and orjson raise several kinds
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = reason[reason.find("ValueError: ") + 12 :] if "ValueError: " in reason else reason
        raise SchemaProblem(f"{path.name}: {reason}") from exc


def _read_json(path: Path, label: str) -> Any:
    """A user's JSON file (schema or mapping); one that cannot be read or parsed is a `SchemaProblem`."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SchemaProblem(f"{label}: cannot read: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise SchemaProblem(f"{label}: not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc


def _check_schema(path: Path) -> None:
    """A user's schema must be JSON and valid against its metaschema (python-jsonschema's job)."""
    schema = _read_json(path, path.name)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError as InvalidSchema
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=Draft202012Validator) if isinstance(schema, dict) else Draft202012Validator
    try:
        cls.check_schema(schema)
    except InvalidSchema as exc:
        where = pointer("", exc.path) or "/"
        raise SchemaProblem(f"{path.name}: {where}: {shorten(exc.message, 160)}") from exc
