"""`vevents types`: the event types vevents knows."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.status import ExitStatus


class ListFormat(enum.StrEnum):
    text = "text"
    json = "json"


def types(
    fmt: Annotated[ListFormat, typer.Option("--format", help="text or json.")] = ListFormat.text,
) -> ExitStatus:
    """List the event types vevents knows: family, dialects, facts it summarises.

    Example:

      vevents types | grep loyalty
    """
    from vevents_cli.output import types as render

    render.write(console.streams(), fmt.value)
    return ExitStatus.OK
