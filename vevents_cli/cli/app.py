"""The `vevents` app: its commands, and `main`, the one exit path of every run.

Commands return an `ExitStatus`; `main` maps it, usage errors (2), Ctrl-C (130), SIGTERM
(143), a closed pipe on stdout (141, quietly), output that cannot be written (74, one line
naming it: `vevents: cannot write to stdout: No space left on device`) and any unexpected
exception (70, one line asking for a report) to the process's exit status. Failed writes
are told apart by `written` (by errno), in a command (`guarded`) and at the final flush
alike. No traceback reaches the user. An argument list the fast path takes (`fast`:
`vevents validate` with the options CI gives) is run without the Typer app, through the same
guard and the same handlers; click and Typer are imported only for the Typer path.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import typer

from vevents_cli.cli.status import ExitStatus
from vevents_cli.output import stdio
from vevents_cli.output.stdio import WriteError

REPORT_URL = "https://github.com/vevents/vevents/issues"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: every `finally` runs, worker processes end."""


_MAIN_PID = os.getpid()


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM: an exception in vevents' own process (so every `finally` runs); in a
    worker forked before it set its own handlers, a quiet exit with the conventional status."""
    if os.getpid() != _MAIN_PID:
        os._exit(128 + signum)
    raise Terminated() if signum != signal.SIGINT else KeyboardInterrupt()


WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, errno.EDQUOT, errno.EROFS})


def written(exc: OSError) -> ExitStatus | None:
    """What a failed write means for the run: the reader went away (141, quietly), or the output
    cannot take it (74, one line on stderr naming the output). None: not a failed write."""
    if exc.errno == errno.EPIPE:
        return ExitStatus.BROKEN_PIPE
    if not isinstance(exc, WriteError) and exc.errno not in WRITE_ERRNOS:
        return None
    from vevents_cli.output.text import safe

    target = exc.filename if isinstance(exc.filename, str) else "stdout"
    sys.stderr.write(f"vevents: cannot write to {safe(target)}: {exc.strerror or exc}\n")
    sys.stderr.flush()
    return ExitStatus.IO_ERROR


def guarded(command: Callable[..., ExitStatus]) -> Callable[..., ExitStatus]:
    """The command, with the ways a run can be cut short turned into its status here
    (before click would turn them into its own exit codes)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> ExitStatus:
        try:
            return command(*args, **kwargs)
        except OSError as exc:
            status = written(exc)
            if status is None:
                raise
            return status
        except Terminated:
            return ExitStatus.TERMINATED
        except KeyboardInterrupt:
            return ExitStatus.INTERRUPTED

    return run


COMMANDS = (
    "show",
    "validate",
    "types",
    "sample",
    "schema",
    "stats",
    "ledger",
    "split",
    "redact",
    "verify",
    "listen",
    "send",
)
HELP = (
    "Inspect, validate and summarise Voucherify webhook and event payloads.\n\n"
    "Example: vevents sample voucher.published | vevents show\n\n"
    "Colour: vevents show --table log.ndjson --color never (or NO_COLOR=1; FORCE_COLOR=1 in a pipe); "
    "--color goes before or after the command"
)


def build(commands: tuple[str, ...] = COMMANDS) -> typer.Typer:
    """The app with these commands (each `vevents_cli.cli.<name>.<name>`, imported here)."""
    import importlib

    import typer

    from vevents_cli.cli.options import checked
    from vevents_cli.cli.root import main_options

    built = typer.Typer(
        name="vevents",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    # click suggests a close command itself; newer typer would add its own (an attribute, so an older typer,
    # which has no such feature, is not given an argument it does not know)
    built.suggest_commands = False
    built.callback()(main_options)
    for name in commands:
        built.command()(guarded(checked(getattr(importlib.import_module(f"vevents_cli.cli.{name}"), name))))
    return built


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, built on first use
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)


GLOBAL_OPTIONS = ("--color",)  # the app's options that take a value, accepted after the command too


def hoisted(argv: list[str]) -> list[str]:
    """`argv` with every global option (`--color X`, `--color=X`) moved before the command, where
    click reads it: `vevents show x --color never` is `vevents --color never show x`. Nothing
    after `--` moves (it is a PATH there)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            taken = 1 if "=" in arg else 2
            if i + taken > len(argv):  # no value: click says so
                return [arg]
            front += argv[i : i + taken]
            i += taken
            continue
        rest.append(arg)
        i += 1
    return front + rest


def _command_named(argv: list[str]) -> str | None:
    """The command `argv` runs, if it is plainly one (after any `--color X`): only that command is
    built then, not all of them. None for anything else (help, errors, completion): the whole app."""
    if any(key.endswith("_COMPLETE") for key in os.environ):
        return None
    i = 0
    while i < len(argv) and argv[i].split("=", 1)[0] in GLOBAL_OPTIONS:
        i += 1 if "=" in argv[i] else 2
    return argv[i] if i < len(argv) and argv[i] in COMMANDS else None


NO_FAST = "VEVENTS_NO_FAST"  # set (to anything): every run takes the Typer path (tests compare the two)


def status_of(argv: list[str] | None) -> ExitStatus:
    """Run the app; what happened, as an exit status (the only place that decides it).

    An argument list the fast path understands whole (`fast`: `validate` with the options
    CI and pre-commit give) runs there, without building the Typer app; anything else, and
    every usage error, runs through Typer."""
    args = hoisted(sys.argv[1:] if argv is None else list(argv))
    try:
        status = None
        if not os.environ.get(NO_FAST):
            from vevents_cli.cli import fast

            run = fast.command(args)
            status = _fast(run) if run is not None else None
        return status if status is not None else _through_typer(args)
    except Terminated:  # while the command's modules were imported
        return ExitStatus.TERMINATED
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # a bug: one line, never a traceback
        message = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(
            f"vevents: internal error: {type(exc).__name__}: {message} (please report it at {REPORT_URL})\n"
        )
        return ExitStatus.INTERNAL


def _fast(run: Callable[[], ExitStatus]) -> ExitStatus | None:
    """The fast path's run (`fast.command`), guarded as a Typer command is; None when it met a
    usage error after all (raised before any input is read): Typer's to show."""
    try:
        return guarded(run)()
    except Exception as exc:
        click = sys.modules.get("click")
        if click is not None and isinstance(exc, click.UsageError):
            return None
        raise


def _through_typer(args: list[str]) -> ExitStatus:
    """The run, by the Typer app built with only the command named (`_command_named`)."""
    import click

    command = _command_named(args)
    try:
        result = (build((command,)) if command else build())(args=args, prog_name="vevents", standalone_mode=False)
    except click.UsageError as exc:
        exc.show()
        return ExitStatus.USAGE
    except click.ClickException as exc:
        exc.show()
        return ExitStatus.FAILED
    except click.Abort as exc:  # Ctrl-C or SIGTERM outside a command (while parsing options)
        return ExitStatus.TERMINATED if isinstance(exc.__context__, Terminated) else ExitStatus.INTERRUPTED
    except SystemExit:  # rich's own console (the help) met a closed pipe
        if stdio.broken_pipe():
            return ExitStatus.BROKEN_PIPE
        raise
    if isinstance(result, int):  # a command's ExitStatus, or click's own exit code (--help, --version)
        return ExitStatus(result) if result in ExitStatus._value2member_map_ else ExitStatus.FAILED
    return ExitStatus.OK


def main(argv: list[str] | None = None) -> NoReturn:
    """Console script: run, flush, exit with the run's status."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    for name in ("SIGINT", "SIGTERM"):  # (SIGTERM is missing on some platforms)
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) is not signal.SIG_IGN:
            signal.signal(getattr(signal, name), _interrupt)
    status = status_of(argv)
    try:
        sys.stdout.flush()
    except OSError as exc:
        status = written(exc) or ExitStatus.IO_ERROR
    if status is ExitStatus.BROKEN_PIPE:  # nothing more may reach the closed pipe, not even at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(int(status))
