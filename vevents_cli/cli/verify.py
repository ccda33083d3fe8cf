"""`vevents verify`: webhook signatures checked over the bytes as received."""

from __future__ import annotations

import dataclasses
import enum
import functools
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import (
    MaxValueSize,
    Paths,
    Secret,
    SecretFile,
    inputs,
    required_secret,
    run_config,
    start_run,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE


class VerifyFormat(enum.StrEnum):
    text = "text"
    json = "json"
    github = "github"


def verify(
    paths: Paths = None,
    secret_value: Secret = None,
    secret_file: SecretFile = None,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
    signature: Annotated[
        str | None,
        typer.Option(
            "--signature",
            metavar="HEX",
            help="The x-voucherify-signature to check (else taken from the input's headers).",
        ),
    ] = None,
    fmt: Annotated[
        VerifyFormat,
        typer.Option(
            "--format",
            help="text (a line per event), json (one document: events, unreadable, summary) or github "
            "(::error annotations for mismatches and missing signatures).",
        ),
    ] = VerifyFormat.text,
) -> ExitStatus:
    """Check webhook signatures: HMAC-SHA256 of the body as received, or of its compact form.

    Input: payload files (the file is the body: a top-level JSON array is checked as one
    body, its bytes as signed), captured HTTP requests, or a `vevents listen --save` file.
    Exit 0 when every event matches.

    Examples:

      vevents verify payload.json --signature 3f1c…  (secret in $VOUCHERIFY_WEBHOOK_SECRET)

      vevents verify request.http --secret-file ~/.voucherify-secret

      vevents verify deliveries.ndjson

      vevents verify deliveries.ndjson --format json | jq '.events[] | select(.verdict != "MATCH")'

      vevents verify captured/ --format github  # in a GitHub Actions step
    """
    from vevents_cli.output import verify as render
    from vevents_cli.voucherify import signatures

    key = required_secret(secret_value, secret_file)
    config = run_config(inputs(paths), validate=False, facts=False, max_value_size=max_value_size)
    config = dataclasses.replace(config, arrays_whole=True)  # an array body is signed whole
    run = start_run(config, functools.partial(signatures.check, secret=key, signature=signature))
    body = functools.partial(signatures.check_body, secret=key, signature=signature)
    checked, failed = render.write(run, console.streams(), body, fmt.value)
    return ExitStatus.of(bool(failed or not checked))
