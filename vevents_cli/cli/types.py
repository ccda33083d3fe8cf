"""`vevents types`: the event types vevents knows."""

from __future__ import annotations

from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import TextOrJson
from vevents_cli.cli.status import ExitStatus


def types(
    fmt: Annotated[TextOrJson, typer.Option("--format", help="text or json.")] = TextOrJson.text,
) -> ExitStatus:
    """List the event types vevents knows: family, dialects, facts it summarises.

    Examples:

      vevents types | grep loyalty  # whole values in a pipe

      vevents types --format json | jq -r .type
    """
    from vevents_cli.output import types as render

    render.write(console.streams(), fmt.value)
    return ExitStatus.OK
