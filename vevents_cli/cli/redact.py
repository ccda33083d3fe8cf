"""`vevents redact`: events with personal data replaced by stable pseudonyms, as NDJSON."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import (
    NO_FILTERS,
    AsType,
    MaxValueSize,
    Paths,
    filtered,
    inputs,
    refuse_inputs,
    run_config,
    start_run,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.pipeline.filters import Filters


@filtered
def redact(
    paths: Paths = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", dir_okay=False, help="Write NDJSON here (else to stdout)."),
    ] = None,
    salt: Annotated[
        str | None,
        typer.Option(
            "--salt",
            metavar="S",
            help="Secret for the pseudonyms: the same salt gives the same "
            "pseudonyms across runs (default: a new random salt each run).",
        ),
    ] = None,
    metadata: Annotated[
        bool,
        typer.Option(
            "--metadata",
            help="Also replace every metadata value outside people (a voucher's, an order's...); "
            "a person's metadata and personal data in any text are replaced anyway.",
        ),
    ] = False,
    as_type: AsType = None,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    filters: Filters = NO_FILTERS,
) -> ExitStatus:
    """Write events (NDJSON) with personal data pseudonymised.

    Everything under a person (customer, holder, referrer: names, emails, phones, addresses,
    birthdates, metadata, previous attributes, JSON inside strings) and emails, phones and IP
    addresses in any text are replaced. Ids, codes, amounts, points, types, timestamps and the
    names of campaigns, rewards and products are kept, so the output still tells the story.
    Numbers and duplicate keys are written as they were read.

    --out FILE is written whole or not at all, and left as it was when no input could be read.

    Examples:

      vevents redact webhooks.ndjson --out shareable.ndjson --salt "$SALT"

      vevents redact webhooks.ndjson --metadata | vevents show --table
    """
    import secrets

    from vevents_cli import redact as redaction
    from vevents_cli.output import show
    from vevents_cli.output.streams import write_to
    from vevents_cli.output.text import name, safe

    sources = inputs(paths)
    if out is not None:
        refuse_inputs(out, sources, "redact")
    config = run_config(
        sources,
        as_type=as_type,
        filters=filters,
        validate=False,
        facts=False,
        exact_numbers=True,
        max_value_size=max_value_size,
    )
    redactor = redaction.Redactor(salt if salt is not None else secrets.token_hex(16), metadata=metadata)
    streams = console.streams()
    run = start_run(config, functools.partial(redaction.line, redactor=redactor))

    def read() -> bool:  # anything at all read: else --out is left as it was
        return bool(run.tally.events or run.tally.filtered or not run.tally.unreadable)

    if not write_to(out, run, streams, streaming=out is None and "-" in sources, keep=read):
        return ExitStatus.FAILED
    if out is not None and not read():
        streams.note(f"{safe(name(str(out)))} left as it was: no input could be read")
    elif out is not None:
        n = run.tally.events
        streams.note(f"{n} event{'' if n == 1 else 's'} redacted to {safe(name(str(out)))}")
    if filters.active:
        streams.note(show.filtered_line(run.tally.filtered))
    return ExitStatus.of(bool(run.tally.unreadable))
