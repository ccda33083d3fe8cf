"""`vevents schema`: the bundled JSON Schema of a type's data, or of an envelope."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vevents_cli.cli.options import Strict
from vevents_cli.cli.status import ExitStatus


def schema(
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="An event type, or envelope/v2024 etc.")],
    strict: Strict = False,
) -> ExitStatus:
    """Print the bundled JSON Schema of TYPE's data (or an envelope).

    Examples:

      vevents schema voucher.published

      vevents schema envelope/legacy --strict
    """
    from vevents_cli import resources

    path = resources.schema_file(event_type, "strict" if strict else "default")
    if path is None:
        raise typer.BadParameter(f"no bundled schema for {event_type!r}", param_hint="TYPE")
    sys.stdout.buffer.write(path.read_bytes())
    return ExitStatus.OK
