"""The command line: one thin module per command, `app.main` the one exit path.

Each command module turns its options into a `RunConfig` (`options` declares the shared
options, `runs` holds the checks and calls that need neither click nor Typer), makes one
call (`pipeline.run`, or the command's own function), hands the result to its `output`
module and returns an `ExitStatus` (`status`). `console` owns the terminal side:
streams, colour policy, the progress bar. `fast` runs `vevents validate` with the options
CI gives without building the Typer app, through the same function as the Typer command
(`validating.validate_run`); `root` declares the app's own options (`--version`, `--color`).
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    """Console script entry point (see `app.main`); `--version` answers before anything loads.

    The process ends as soon as its output is flushed: tearing down what a run built (the
    compiled validators above all, ~50 ms for a log of every type) is work nobody sees. A
    signal before the app's own handling (while the first modules load) ends it with the
    signal's status, quietly.
    """
    try:
        _main(argv)
    except KeyboardInterrupt as exc:
        import os

        os._exit(143 if type(exc).__name__ == "Terminated" else 130)


def _main(argv: list[str] | None) -> None:
    import contextlib
    import os
    import sys

    from vevents_cli.output.stdio import standard_streams

    standard_streams()  # a failed write on stdout raises once, stderr never fails a run
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        from vevents_cli import __version__

        status = 0
        try:
            sys.stdout.write(f"vevents {__version__}\n")
            sys.stdout.flush()
        except OSError as exc:
            from vevents_cli.cli.app import written

            status = int(written(exc) or 74)
        os._exit(status)
    from vevents_cli.signals import uninterrupted

    with uninterrupted():  # a signal inside orjson's own start (it imports uuid, datetime...) would crash it
        import orjson  # noqa: F401
    status = 0
    try:
        from vevents_cli.cli.app import main as run

        run(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt as exc:  # a signal outside the app's own handling (while it was imported)
        status = 143 if type(exc).__name__ == "Terminated" else 130  # SIGTERM (`app.Terminated`), or Ctrl-C
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # `app.main` has made a failed write the status
            stream.flush()
    os._exit(status)
