"""`vevents sample`: a bundled sample payload of a type, in any dialect."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vevents_cli.cli.options import DEFAULT_DIALECT, Dialect, complete_sample, unknown_type
from vevents_cli.cli.status import ExitStatus


def sample(
    event_type: Annotated[
        str, typer.Argument(metavar="TYPE", help="An event type (see: vevents types).", autocompletion=complete_sample)
    ],
    dialect: Annotated[Dialect, typer.Option("--dialect", help="Envelope to wrap it in.")] = DEFAULT_DIALECT,
) -> ExitStatus:
    """Print a bundled sample payload of TYPE.

    Examples:

      vevents sample voucher.published | vevents show

      vevents sample customer.rewarded --dialect legacy > fixture.json
    """
    import orjson

    from vevents_cli import samples

    if samples.sample_path(event_type) is None:
        unknown_type(event_type, "TYPE", complete_sample(""), "no sample for", documented=", so it has no sample")
    payload = samples.sample(event_type, dialect.value)
    sys.stdout.buffer.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return ExitStatus.OK
