"""Rendering for `schema`: one self-contained JSON Schema document, or the list of names.

The schemas of vevents' own output (`facts`, `report`: `resources.OUTPUT_SCHEMAS`) are
self-contained files, printed as they are, `$id` and all (their version is in it).

The bundled files share their definitions (`../defs.json#/$defs/...`). `bundle` copies the
definitions a file needs, transitively, into the document's own `$defs` and rewrites the
references to point there, so any Draft 2020-12 validator can apply the document with no
other file. Pure functions over the loaded files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from vevents_cli import resources

DEFS_FILE = "../defs.json"
LOCAL = "#/$defs/"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _rewritten(node: Any) -> Any:
    """`node` with references into the shared definitions file made local."""
    if isinstance(node, dict):
        out = {key: _rewritten(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS_FILE + "#"):
            out["$ref"] = ref[len(DEFS_FILE) :]
        return out
    if isinstance(node, list):
        return [_rewritten(value) for value in node]
    return node


def _name(ref: str) -> str | None:
    """The definition a reference names (`../defs.json#/$defs/X` or `#/$defs/X`), else None."""
    fragment = ref[len(DEFS_FILE) :] if ref.startswith(DEFS_FILE + "#") else ref
    return fragment[len(LOCAL) :].split("/", 1)[0] if fragment.startswith(LOCAL) else None


def bundle(path: Path, title: str) -> dict[str, Any]:
    """The schema file at `path` with every definition it needs in its own `$defs`."""
    root = dict(resources.load_json(path))
    root.pop("$id", None)  # this document is not the file: it has no address of its own
    defs_path = path.parent.parent / "defs.json"
    shared = resources.load_json(defs_path)["$defs"] if defs_path.is_file() else {}
    needed: dict[str, Any] = {}
    pending = [name for name in map(_name, _refs(root)) if name]
    while pending:
        name = pending.pop()
        if name in needed or name not in shared:
            continue
        needed[name] = shared[name]
        pending.extend(n for n in map(_name, _refs(shared[name])) if n)
    own = root.pop("$defs", {})
    clash = set(own) & set(needed)
    if clash:  # cannot happen with the generated files; refuse rather than mix two meanings
        raise ValueError(f"definitions in both {path.name} and defs.json: {', '.join(sorted(clash))}")
    document = {
        "$schema": root.pop("$schema", "https://json-schema.org/draft/2020-12/schema"),
        "title": title,
        **_rewritten(root),
    }
    if needed or own:
        document["$defs"] = dict(sorted({**own, **_rewritten(needed)}.items()))
    return document


def names() -> list[str]:
    """Every name `vevents schema` accepts: event types with a schema, envelopes, then vevents' outputs."""
    from vevents_cli.voucherify import catalogue, dialects

    types = sorted(name for name, entry in catalogue.CATALOGUE.items() if entry.has_schema)
    return types + list(dialects.ENVELOPES) + list(resources.OUTPUT_SCHEMAS)


def listing() -> bytes:
    return "".join(name + "\n" for name in names()).encode()


def document_bytes(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
