"""The command line: one thin module per command, `app.main` the one exit path.

Each command module turns its options into a `RunConfig` (`options`), makes one call
(`pipeline.run`, or the command's own function), hands the result to its `output`
module and returns an `ExitStatus` (`status`). `console` owns the terminal side:
streams, colour policy, the progress bar.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    """Console script entry point (see `app.main`); `--version` answers before anything loads."""
    import sys

    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        from vevents_cli import __version__

        print(f"vevents {__version__}")
        return
    from vevents_cli.cli.app import main as run

    run(argv)
