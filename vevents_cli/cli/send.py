"""`vevents send`: deliver events to a webhook handler under test, as Voucherify would."""

from __future__ import annotations

import enum
import re
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import (
    Dialect,
    MaxValueSize,
    Paths,
    Secret,
    SecretFile,
    complete_sample,
    inputs,
    run_config,
    secret,
    start_run,
    unknown_type,
)
from vevents_cli.cli.status import ExitStatus
from vevents_cli.pipeline.config import MAX_VALUE_SIZE
from vevents_cli.voucherify import delivery


class SendFormat(enum.StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


_RATE = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(?:/\s*s)?\s*")


def rate_per_second(text: str | float) -> float:
    """`--rate`: requests a second, `N` or `N/s`."""
    if isinstance(text, float):
        return text
    m = _RATE.fullmatch(text)
    if m is None or float(m.group(1)) <= 0:
        raise typer.BadParameter(f"{text!r} is not a rate: give requests a second, e.g. 5/s or 0.5/s")
    return float(m.group(1))


def send(
    url: Annotated[str, typer.Argument(metavar="URL", help="The handler's URL (loopback unless --allow-remote).")],
    paths: Paths = None,
    secret_value: Secret = None,
    secret_file: SecretFile = None,
    keep_signature: Annotated[
        bool,
        typer.Option("--keep-signature", help="Resend the captured x-voucherify-signature unchanged (rejection path)."),
    ] = False,
    no_signature: Annotated[bool, typer.Option("--no-signature", help="Send no signature header.")] = False,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            metavar="'NAME: VALUE'",
            help="Add a header, as Voucherify's additional headers (repeatable).",
        ),
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            metavar="GLOB",
            help="Send the bundled sample of each matching type (fnmatch; repeatable).",
            autocompletion=complete_sample,
        ),
    ] = None,
    all_types: Annotated[
        bool, typer.Option("--all-types", help="Send a sample of every type, in every dialect.")
    ] = False,
    dialect: Annotated[
        list[Dialect] | None,
        typer.Option("--dialect", help="Only these dialects of the samples (repeatable; default: each documented)."),
    ] = None,
    same_ids: Annotated[
        bool, typer.Option("--same-ids", help="Samples keep their ids and created_at (else fresh on every run).")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", metavar="S", min=0.01, help="A slower answer is a failure (Voucherify's limit: 10 s)."
        ),
    ] = delivery.RESPONSE_LIMIT,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            metavar="N",
            min=0,
            max=delivery.MAX_TRIES - 1,
            help="Resend a failed delivery up to N times after 1, 2, 4… minutes: same body, id and signature.",
        ),
    ] = 0,
    retry_scale: Annotated[
        float,
        typer.Option(
            "--retry-scale", metavar="F", min=0.0, help="Multiply the retry waits by F (0.001: ms for minutes)."
        ),
    ] = 1.0,
    duplicate_every: Annotated[
        int | None,
        typer.Option(
            "--duplicate-every", metavar="K", min=1, help="Send every K-th delivery once more after it succeeded."
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", min=1, max=256, help="Deliveries in flight at once.")
    ] = 1,
    rate: Annotated[
        float | None,
        typer.Option("--rate", metavar="N/s", parser=rate_per_second, help="At most N requests a second."),
    ] = None,
    fmt: Annotated[SendFormat, typer.Option("--format", help="text, json (one object a line) or junit.")] = (
        SendFormat.text
    ),
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow a URL that is not this machine (payloads hold customer data).")
    ] = False,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="https:// without checking the certificate (local self-signed servers).")
    ] = False,
    max_value_size: MaxValueSize = MAX_VALUE_SIZE,
) -> ExitStatus:
    """POST events to URL as Voucherify does: signed, retried, duplicated; report each delivery.

    Input: PATHS (files, folders, logs, captured requests, listen --save files, stdin; a
    body is sent as its original bytes when the input holds them, else compact), or the
    bundled samples (--type, --all-types). Signed with the webhook secret (--secret-file,
    $VOUCHERIFY_WEBHOOK_SECRET or --secret). Exit 0 when every delivery ended 2xx.

    Examples:

      vevents send http://localhost:3000/webhooks deliveries.ndjson

      vevents send http://localhost:3000/webhooks --all-types --format junit > send.xml

      vevents send http://localhost:3000/webhooks --type 'voucher.*' --retries 3 --duplicate-every 2
    """
    from vevents_cli.output import send as render
    from vevents_cli.webhooks import send as sender
    from vevents_cli.webhooks.http import UrlProblem

    try:
        target = sender.target(url, allow_remote)
        extra = sender.headers_given(header or ())
    except UrlProblem as exc:
        raise typer.BadParameter(str(exc), param_hint="URL") from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--header") from None
    if keep_signature and no_signature:
        raise typer.BadParameter("give one of --keep-signature and --no-signature", param_hint="--no-signature")
    generated = bool(types or all_types)
    if generated and paths:
        raise typer.BadParameter(
            "--type and --all-types send the bundled samples: give them or PATHS", param_hint="--type"
        )
    patterns = ("*",) if all_types else tuple(types or ())
    if generated and not sender.any_type(patterns):
        unknown_type(patterns[0], "--type", complete_sample(""), "no event type matches")
    mode: sender.SignatureMode = "keep" if keep_signature else "none" if no_signature else "sign"
    key = secret(secret_value, secret_file, required=mode == "sign")
    config = sender.Config(
        url=url,
        secret=key,
        signature=mode,
        headers=extra,
        timeout=timeout,
        retries=retries,
        retry_scale=retry_scale,
        duplicate_every=duplicate_every or 0,
        concurrency=concurrency,
        rate=rate,
        insecure=insecure,
    )
    chosen = tuple(map(str, dialect or ()))
    items = (
        sender.generated(patterns, chosen, same_ids)
        if generated
        else start_run(
            run_config(inputs(paths), validate=False, facts=False, max_value_size=max_value_size), sender.outgoing
        )
    )
    totals = render.write(fmt.value, sender.Sender(target, config).run(items), console.streams())
    return ExitStatus.of(not totals.ok)
