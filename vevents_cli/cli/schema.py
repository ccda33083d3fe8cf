"""`vevents schema`: a type's data schema (or an envelope's, or of vevents' own JSON output) as one
self-contained document."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vevents_cli.cli.options import Strict, complete_schema, unknown_type
from vevents_cli.cli.status import ExitStatus


def schema(
    event_type: Annotated[
        str | None,
        typer.Argument(
            metavar="TYPE",
            help="An event type, envelope/v2024 etc., or facts / report: the schemas of show's and validate's "
            "JSON output (see: vevents schema --list).",
            autocompletion=complete_schema,
            show_default=False,
        ),
    ] = None,
    strict: Strict = False,
    listing: Annotated[bool, typer.Option("--list", help="List the names that have a schema.")] = False,
) -> ExitStatus:
    """Print the JSON Schema of TYPE's data (or of an envelope): one Draft 2020-12 document
    with every definition it needs in its own `$defs`, usable by any validator on its own.

    `facts` and `report` are the versioned schemas of vevents' own output: the record `show
    --format json` writes, the document `validate --format json` writes (the same with --strict).

    Examples:

      vevents schema voucher.published > voucher.published.schema.json

      vevents schema envelope/legacy --strict

      vevents schema facts > facts.schema.json  # show --format json's record, versioned by its $id

      vevents schema --list
    """
    from vevents_cli import resources
    from vevents_cli.output import schema as render
    from vevents_cli.voucherify import dialects

    if listing:
        sys.stdout.buffer.write(render.listing())
        return ExitStatus.OK
    if event_type is None:
        raise typer.BadParameter("give a TYPE (see: vevents schema --list)", param_hint="TYPE")
    if event_type in resources.OUTPUT_SCHEMAS:
        sys.stdout.buffer.write(render.document_bytes(resources.output_schema(event_type)))
        return ExitStatus.OK
    level = "strict" if strict else "default"
    path = resources.schema_path(level, dialects.schema_file(event_type))
    if path is None:
        unknown_type(event_type, "TYPE", render.names(), "no bundled schema for", "vevents schema --list", "")
    origin = path.relative_to(resources.schemas_dir()).as_posix()
    title = f"{event_type} ({level}): bundled by vevents from schemas/{origin}"
    sys.stdout.buffer.write(render.document_bytes(render.bundle(path, title)))
    return ExitStatus.OK
