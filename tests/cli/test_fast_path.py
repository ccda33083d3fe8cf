"""The fast path (`vevents_cli/cli/fast.py`) against the Typer path it stands for (issue 22).

One declaration, no drift: every option the fast path reads is the Typer declaration's own
(names, flag or value, choices, default), and `validating.validate_run`'s defaults are the Typer
command's for every option. Then a grid of argument lists (the options the fast path takes,
alone and together, and lists it must leave to Typer) over inputs (valid, invalid, unreadable,
missing files, a folder, stdin, empty stdin) runs both ways, `VEVENTS_NO_FAST=1` forcing Typer:
the same stdout, stderr, exit status, `validate_run` arguments and `RunConfig`. Last, what the
fast path imports: neither click nor Typer, nor rich.
"""

from __future__ import annotations

import functools
import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson
import pytest
import typer.main

from tests.helpers import REPO, Result, clean_env, invoke, run
from vevents_cli import samples
from vevents_cli.cli import fast, validate, validating
from vevents_cli.cli.app import build, hoisted
from vevents_cli.cli.console import Color
from vevents_cli.cli.options import NO_FILTERS
from vevents_cli.pipeline.filters import Filters

SAMPLE = str(REPO / "samples" / "campaign.created.json")
TYPER = {"VEVENTS_NO_FAST": "1"}


@pytest.fixture(scope="module")
def command() -> tuple[click.Group, click.Command]:
    group = typer.main.get_command(build(("validate",)))
    assert isinstance(group, click.Group)
    return group, group.commands["validate"]


def _param(command: click.Command, name: str) -> click.Parameter:
    found = [p for p in command.params if name in p.opts or name in p.secondary_opts]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


DEFAULTS = {name: p.default for name, p in inspect.signature(validating.validate_run).parameters.items()}


def test_every_fast_option_is_the_typer_declaration(command: tuple[click.Group, click.Command]) -> None:
    _, validate_command = command
    for name, (key, kind) in fast.OPTIONS.items():
        param = _param(validate_command, name)
        assert isinstance(param, click.Option), name
        assert param.name == key, name
        assert not param.multiple and param.nargs == 1 and not param.count, name
        assert param.default == DEFAULTS[key], name
        assert param.secondary_opts == [], name  # (no --no-X form the fast path would not know)
        assert param.callback is None and param.envvar is None and not param.is_eager, name  # nothing else reads it
        if kind == fast.FLAG:
            assert param.is_flag and param.default is False, name
        else:
            assert not param.is_flag, name
        if kind == fast.CHOICE:
            assert isinstance(param.type, click.Choice) and param.type.case_sensitive, name
            assert tuple(param.type.choices) == tuple(validating.CHOICES[key].__members__), name
            assert type(param.default) is validating.CHOICES[key], name
        if kind == fast.VALUE:
            assert isinstance(param.type, click.types.StringParamType), name
    # every name of those options is the fast path's too (-q and --quiet)
    for key in {key for key, _ in fast.OPTIONS.values()}:
        (param,) = [p for p in validate_command.params if p.name == key]
        assert set(param.opts) <= fast.OPTIONS.keys(), key


def test_the_paths_and_the_apps_color_are_the_typer_declaration(command: tuple[click.Group, click.Command]) -> None:
    group, validate_command = command
    (paths,) = [p for p in validate_command.params if isinstance(p, click.Argument)]
    assert paths.name == "paths" and paths.nargs == -1 and isinstance(paths.type, click.types.StringParamType)
    assert paths.default is None and DEFAULTS["paths"] is None
    color = _param(group, fast.GLOBAL)
    assert isinstance(color.type, click.Choice) and color.type.case_sensitive
    assert tuple(color.type.choices) == tuple(Color.__members__) and color.default is Color.auto
    assert not color.is_flag and color.nargs == 1
    assert color.envvar is None and paths.envvar is None and paths.callback is None
    assert group.context_settings.get("auto_envvar_prefix") is None  # no option read from the environment
    assert validate_command.allow_interspersed_args  # options among the PATHS, as the fast path reads them


def test_validate_runs_defaults_are_the_typer_commands(command: tuple[click.Group, click.Command]) -> None:
    """What the fast path does not pass, `validate_run` takes from its own defaults: the Typer ones."""
    _, validate_command = command
    filters = {"types", "customer", "voucher", "campaign", "since", "until", "invalid"}
    for param in validate_command.params:
        if param.name in filters:
            continue
        assert param.name in DEFAULTS, param.name
        assert param.default == DEFAULTS[param.name], param.name
    assert DEFAULTS["filters"] == NO_FILTERS == Filters.from_options(None, None, None, None, None, None, False)
    assert set(DEFAULTS) == {p.name for p in validate_command.params} - filters | {"filters"}


# --- the same run, both ways ----------------------------------------------------------------------

FAST = [
    [],
    ["--strict"],
    ["-q"],
    ["--quiet", "--strict"],
    ["--format", "json"],
    ["--format=json", "--only-invalid"],
    ["--format", "junit"],
    ["--format", "github"],
    ["--expect", "invalid"],
    ["--expect=invalid", "--format", "json"],
    ["--as", "voucher.published"],
    ["--as=campaign.created", "--strict", "--format", "github"],
    ["--allow-empty"],
    ["--color", "always"],
    ["--color=never", "-q"],
]
TYPERS = [  # argument lists the fast path leaves to Typer (usage errors, help, options it does not read)
    ["--format", "yaml"],
    ["--format"],
    ["--expect", "Valid"],
    ["--as", "no.such.type"],
    ["--as", "--strict"],
    ["-q", "--format", "json"],
    ["--only-invalid"],
    ["-qq"],
    ["--strict=yes"],
    ["--strict", "--strict"],
    ["--help"],
    ["--engine", "local"],
    ["--type", "voucher.*"],
    ["--max-value-size", "1K"],
    ["--color", "sometimes"],
    ["--bogus"],
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], bytes | None]]:
    folder = tmp_path_factory.mktemp("fast")
    invalid = samples.sample("voucher.published")
    invalid["data"]["object"] = 12
    (folder / "invalid.json").write_bytes(orjson.dumps(invalid, option=orjson.OPT_INDENT_2))
    (folder / "broken.json").write_bytes(b'{"id": "whs_1", "data": ')
    (folder / "log.ndjson").write_bytes(
        b"\n".join(orjson.dumps(samples.sample(t)) for t in ("voucher.published", "customer.created")) + b"\n"
    )
    fixtures = folder / "fixtures"
    fixtures.mkdir()
    for name in ("invalid.json", "log.ndjson"):
        (fixtures / name).write_bytes((folder / name).read_bytes())
    return {
        "valid": ([SAMPLE], None),
        "invalid": ([str(folder / "invalid.json")], None),
        "broken": ([str(folder / "broken.json")], None),
        "missing": ([str(folder / "missing.json")], None),
        "several": ([SAMPLE, str(folder / "invalid.json"), "--", str(folder / "log.ndjson")], None),
        "folder": ([str(fixtures)], None),
        "stdin": ([], Path(SAMPLE).read_bytes()),
        "dash": (["-"], orjson.dumps(invalid)),
        "empty stdin": ([], b""),
    }


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record each `validate_run` call's arguments (defaults applied) and each run's `RunConfig`."""
    seen: list[Any] = []
    real_run, real_start = validating.validate_run, validating.start_run

    @functools.wraps(real_run)
    def validate_run(*args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(real_run).bind(*args, **kwargs)
        bound.apply_defaults()
        seen.append(dict(bound.arguments))
        return real_run(*args, **kwargs)

    def start_run(config: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(config)
        return real_start(config, *args, **kwargs)

    monkeypatch.setattr(validating, "validate_run", validate_run)
    monkeypatch.setattr(validate, "validate_run", validate_run)
    monkeypatch.setattr(validating, "start_run", start_run)
    return seen


def _both(monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: bytes | None) -> Iterator[tuple[Result, Any]]:
    """The run on the fast path (when it takes it), then on the Typer path: each result, with what
    `validate_run` was given and its `RunConfig`, and whether the fast path took the run."""
    with monkeypatch.context() as patched:
        taken: list[bool] = []
        real_command = fast.command

        def command(argv: list[str]) -> Any:
            found = real_command(argv)
            taken.append(found is not None)
            return found

        patched.setattr(fast, "command", command)
        seen = _spied(patched)
        for env in ({}, TYPER):
            result = invoke(*args, input=stdin, env=env)
            yield result, (list(seen), bool(taken) and taken[-1] if not env else None)
            seen.clear()
            taken.clear()


@pytest.mark.parametrize(
    "options",
    [pytest.param(o, marks=[pytest.mark.heavy] if i % 4 else []) for i, o in enumerate(FAST + TYPERS)],
    ids=" ".join,
)  # one in four in the default suite, all with the heavy tests
def test_the_fast_path_is_the_typer_path(
    monkeypatch: pytest.MonkeyPatch, inputs: dict[str, tuple[list[str], bytes | None]], options: list[str]
) -> None:
    for name, (paths, stdin) in inputs.items():
        for args in (["validate", *options, *paths], ["validate", *paths, *options]):
            (fast_result, (fast_seen, taken)), (typer_result, (typer_seen, _)) = _both(monkeypatch, args, stdin)
            where = f"{name}: {args}"
            assert fast_result.exit_code == typer_result.exit_code, where
            assert fast_result.stdout_bytes == typer_result.stdout_bytes, where
            assert fast_result.stderr_bytes == typer_result.stderr_bytes, where
            assert fast_seen == typer_seen, where  # the same validate_run arguments, the same RunConfig
            read = not options or "--" not in args or args.index("--") > args.index(options[0])  # (not PATHS)
            if options in FAST and read:
                usage = fast_result.exit_code == 2  # (no input at all: validate_run's own usage error)
                assert taken is not usage, where
                assert fast_seen or usage, where
            elif options in TYPERS and read:
                assert not taken, where


def test_the_color_option_before_the_command_is_read_as_typer_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (["--color", "always", "validate", SAMPLE], ["validate", SAMPLE, "--color=always"]):
        assert fast.parse(hoisted(args)) == (Color.always, [SAMPLE], {})
        (fast_result, _), (typer_result, _) = _both(monkeypatch, [*args, "/nonexistent"], None)
        assert "\x1b[" in fast_result.stderr and fast_result.stderr_bytes == typer_result.stderr_bytes


def test_what_the_fast_path_leaves_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast.parse(["show", SAMPLE]) is None
    assert fast.parse(["--version"]) is None
    assert fast.parse(["validate", "--", "-q"]) == (Color.auto, ["-q"], {})
    assert fast.parse(["validate", "-", "x"]) == (Color.auto, ["-", "x"], {})
    monkeypatch.setenv("_VEVENTS_COMPLETE", "complete_bash")
    assert fast.parse(["validate", SAMPLE]) is None


def test_the_fast_path_imports_neither_click_typer_nor_rich() -> None:
    script = (
        "import sys; from vevents_cli.cli.app import status_of; "
        f"status = status_of(['validate', '--format', 'github', {SAMPLE!r}]); "
        "sys.stderr.write(' '.join(sorted(sys.modules)) + '\\n'); sys.exit(int(status))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean_env(), timeout=60, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stderr.split())
    for module in ("click", "typer", "rich", "vevents_cli.cli.options", "vevents_cli.cli.validate"):
        assert module not in loaded, module


@pytest.mark.parametrize(
    "args",
    [
        ["validate", SAMPLE],
        ["validate", "--format", "github", SAMPLE, "/nonexistent.json"],
        ["validate", "--format", "junit", "--expect", "invalid", SAMPLE],
        ["validate", "--format", "yaml", SAMPLE],
    ],
    ids=" ".join,
)
def test_the_console_script_prints_the_same_either_way(args: list[str]) -> None:
    ran = [run(*args, env=env) for env in ({}, TYPER)]
    assert ran[0].returncode == ran[1].returncode
    assert ran[0].stdout == ran[1].stdout and ran[0].stderr == ran[1].stderr
