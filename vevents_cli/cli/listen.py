"""`vevents listen`: a local webhook receiver; each delivery goes through the pipeline to the console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vevents_cli.cli import console
from vevents_cli.cli.options import Secret, SecretFile, run_config, secret, size, start_run
from vevents_cli.cli.status import ExitStatus


def listen(
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback unless you mean it).")] = ("127.0.0.1"),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8787,
    path: Annotated[str, typer.Option("--path", help="URL path deliveries are POSTed to.")] = "/",
    secret_value: Secret = None,
    secret_file: SecretFile = None,
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature", help="Answer 401 to a delivery whose signature is missing or does not match."
        ),
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            metavar="FILE.ndjson",
            dir_okay=False,
            help="Append each delivery (headers, body as received, event) as one NDJSON line.",
        ),
    ] = None,
    forward: Annotated[
        str | None, typer.Option("--forward", metavar="URL", help="Pass each accepted delivery on to URL.")
    ] = None,
    max_body: Annotated[
        int,
        typer.Option(
            "--max-body",
            metavar="SIZE",
            parser=size,
            show_default="1M",
            help="Larger bodies are answered 413. SIZE: bytes, or with K, M, G (512K, 2M).",
        ),
    ] = 1024 * 1024,
    forward_timeout: Annotated[
        float,
        typer.Option(
            "--forward-timeout",
            metavar="SECONDS",
            min=0.1,
            help="How long a --forward target may take, from connecting to the end of its answer.",
        ),
    ] = 10.0,
    max_connections: Annotated[
        int,
        typer.Option(
            "--max-connections",
            metavar="N",
            min=1,
            help="Connections served at once; more wait, and idle or slow ones are closed first.",
        ),
    ] = 64,
) -> ExitStatus:
    """Receive webhook deliveries locally: print them, check signatures, save, forward.

    Answers 200 at once (with --save, once its line is written); 401 (--require-signature,
    bad or no signature), 400 (body not JSON, still saved), 404 (other path), 405 (not
    POST), 413 (over --max-body), 503 (--save could not write it: exit 74 at the end).
    Forwarding happens in the background (a slow target delays nothing; redirects are
    reported, not followed). Ctrl-C or SIGTERM stops it, with a count of what it received.

    Examples:

      VOUCHERIFY_WEBHOOK_SECRET=… vevents listen --save deliveries.ndjson

      vevents listen --port 9000 --forward http://localhost:3000/webhooks

      vevents listen --max-body 2M
    """
    from vevents_cli.output import listen as render
    from vevents_cli.webhooks import receive
    from vevents_cli.webhooks.http import UrlProblem, http_url

    key = secret(secret_value, secret_file, required=require_signature)
    if not path.startswith("/"):
        raise typer.BadParameter("must start with /", param_hint="--path")
    try:
        if forward is not None:
            http_url(forward)
    except UrlProblem as exc:
        raise typer.BadParameter(str(exc), param_hint="--forward") from None
    config = receive.Config(
        host=host,
        port=port,
        path=path,
        secret=key,
        require_signature=require_signature,
        save=save,
        forward=forward,
        max_body=max_body,
        forward_timeout=forward_timeout,
        max_connections=max_connections,
    )
    streams = console.streams()
    printer = render.Printer(streams, console.width(streams), forwarding=forward is not None)
    try:
        server = receive.Receiver(config, on_forward=printer.forwarded, on_note=printer.note)
    except OSError as exc:
        raise typer.BadParameter(f"cannot open: {exc.strerror or exc}", param_hint="--save") from None
    try:
        bound_host, bound_port = server.start()
    except OSError as exc:
        streams.write_err(f"vevents: cannot listen on {host}:{port}: {exc.strerror or exc}", "red")
        return ExitStatus.FAILED
    render.banner(streams, config, bound_host, bound_port, server.cap)
    printer.header()
    try:
        with server.signals_stop():  # Ctrl-C, SIGTERM: the deliveries end between two of them
            render.write(start_run(run_config(()), records=server.deliveries()), printer)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        pass
    finally:
        streams.note("stopping…")
        server.stop()
    render.write(start_run(run_config(()), records=server.remaining()), printer)  # answered before the stop
    streams.write_err(server.summary_line())
    return ExitStatus.IO_ERROR if server.not_saved else ExitStatus.OK
