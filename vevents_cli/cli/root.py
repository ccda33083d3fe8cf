"""The app's own options, before any command: `--version` and `--color` (Typer's callback,
declared here so that `app` imports neither click nor Typer until the Typer path is taken)."""

from __future__ import annotations

from typing import Annotated

import typer

from vevents_cli import __version__
from vevents_cli.cli import console


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vevents {__version__}")
        raise typer.Exit()


def main_options(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
    color: Annotated[
        console.Color,
        typer.Option(
            "--color",
            help="auto: colour terminals (unless NO_COLOR; FORCE_COLOR colours pipes too), "
            "always or never. Before or after the command: vevents show x --color never",
        ),
    ] = console.Color.auto,
) -> None:
    """Inspect, validate and summarise Voucherify webhook and event payloads."""
    console.choose(color)
