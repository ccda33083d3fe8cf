"""Every shell example in README.md runs as written, in order, and the install snippets name a release.

How the README's fenced blocks are read (the README says so beside its setup block):

* every fenced block has an info string: `sh` (commands), `console` (a command and what it
  prints), `text` (output), `json`, `yaml`, `http` (a captured request), `shell` (the quick
  start's commands: they install, so they are shown, not run); nothing else;
* each line of an `sh` block that is not blank and not only a comment is one command; each
  `$ ` line of a `console` block is one command, and the lines after it, up to the next `$ `,
  are what it prints (each must start a line of its output; a trailing `...` elides the rest);
* a command exits 0 unless its trailing comment says `exit N` (e.g. `# exit 1: ...`);
* a command whose trailing comment says `not run in tests: REASON` is not run, and neither is a
  block whose first line is that comment: they need a person, the network, a package index or
  a checkout of the repository. Everything else runs.

All commands run in one bash session (`set -o pipefail`, so a failing `vevents` in a pipeline
counts; `export` carries over, as for a reader typing them), in a temporary folder that holds a
copy of the bundled `samples/`, with this environment's `vevents` and `python` first on PATH and
stdin empty. The README's setup block (the first `sh` block under "The files the examples use")
builds every file the later examples name from the samples, with vevents, jq and openssl.

The pre-commit snippet's `rev:` is the release tag of this version (`v` + `__version__`), and the
GitHub Actions step installs that same tag from the repository's git URL. The quick start's test
command, not run here, is the line .ci/run runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import vevents_cli
from tests.helpers import REPO, clean_env

README = REPO / "README.md"
KINDS = frozenset({"sh", "console", "text", "json", "yaml", "http", "shell"})
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)
NOT_RUN = re.compile(r"#.*\bnot run in tests: \S")
EXIT = re.compile(r"#.*\bexit (\d+)\b")
TAG = f"v{vevents_cli.__version__}"
REPOSITORY = "https://github.com/vevents/vevents"
TOOLS = ("bash", "jq", "openssl")  # what the examples and their setup block use beside vevents


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    info: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Command:
    line: int  # in README.md, 1-based
    text: str
    status: int
    prints: tuple[str, ...] = ()  # console blocks: what its output must show


def blocks(text: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(text):
        indent = len(match["indent"])
        body = [line[indent:] for line in match["body"].splitlines()]
        found.append(Block(text.count("\n", 0, match.start()) + 1, match["info"].strip(), tuple(body)))
    return found


def commands(block: Block) -> list[Command]:
    """The commands of a block, with what each must exit with (and print), those not run left out."""
    if block.info not in {"sh", "console"} or (block.lines and NOT_RUN.match(block.lines[0])):
        return []
    found: list[Command] = []
    for offset, line in enumerate(block.lines, start=block.line + 1):
        if block.info == "console" and not line.startswith("$ "):
            if found and line.strip():
                found[-1] = Command(found[-1].line, found[-1].text, found[-1].status, (*found[-1].prints, line))
            continue
        text = line.removeprefix("$ ") if block.info == "console" else line
        if not text.strip() or text.lstrip().startswith("#") or NOT_RUN.search(text):
            continue
        assert not text.rstrip().endswith("\\"), f"README.md:{offset}: one command per line, please"
        status = EXIT.search(text)
        found.append(Command(offset, text, int(status[1]) if status else 0))
    return found


def test_every_fenced_block_says_what_it_holds() -> None:
    unmarked = [f"README.md:{b.line}: ```{b.info}" for b in blocks(README.read_text()) if b.info not in KINDS]
    assert not unmarked, f"info string not one of {sorted(KINDS)}: {unmarked}"


def test_no_command_hides_in_an_output_block() -> None:
    """A command in a `text` block would never run: commands go in `sh` or `console` blocks."""
    hidden = [
        f"README.md:{b.line + n}: {line}"
        for b in blocks(README.read_text())
        if b.info == "text"
        for n, line in enumerate(b.lines, start=1)
        if line.startswith(("vevents ", "$ ", "python ", "pip "))
    ]
    assert not hidden


def test_the_setup_block_comes_first() -> None:
    runnable = [b for b in blocks(README.read_text()) if commands(b)]
    assert runnable, "no example to run"
    assert any("payload.json" in line for line in runnable[0].lines), "the first block run is the setup block"


@pytest.mark.heavy  # the whole README as one shell session, ~50 commands in order (CI runs it)
@pytest.mark.skipif(not all(map(shutil.which, TOOLS)), reason=f"needs {', '.join(TOOLS)}")
def test_every_shell_example_runs_as_written(tmp_path: Path) -> None:
    todo = [command for block in blocks(README.read_text()) for command in commands(block)]
    work, out = tmp_path / "work", tmp_path / "out"
    shutil.copytree(REPO / "samples", work / "samples")
    out.mkdir()
    script = ["set -o pipefail", f"cd {work}"]
    for number, command in enumerate(todo):
        # A brace group runs in this shell (exports stay); the newline ends a trailing comment.
        script += [f"{{ {command.text}", f"}} >{out}/{number}.out 2>{out}/{number}.err </dev/null"]
        script += [f"echo $? >{out}/{number}.status"]
    bin_dir = str(Path(sys.executable).parent)
    env = clean_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp_path)})
    subprocess.run(["bash", "-c", "\n".join(script)], env=env, timeout=120, stdin=subprocess.DEVNULL, check=False)

    failures = []
    for number, command in enumerate(todo):
        where = f"README.md:{command.line}: {command.text.strip()}"
        status_file = out / f"{number}.status"
        if not status_file.exists():
            failures.append(f"{where}\n    did not run")
            continue
        status = int(status_file.read_text())
        stdout = (out / f"{number}.out").read_text(errors="replace")
        stderr = (out / f"{number}.err").read_text(errors="replace")
        missing = _not_printed(command.prints, (stdout + stderr).splitlines())
        if status != command.status or missing:
            tail = "\n".join(f"    | {line}" for line in stderr.splitlines()[-4:])
            shown = f"; does not print {missing}" if missing else ""
            failures.append(f"{where}\n    exit {status}, the README says {command.status}{shown}\n{tail}")
    assert not failures, f"{len(failures)} of {len(todo)} README examples fail:\n" + "\n".join(failures)


def _not_printed(expected: tuple[str, ...], output: list[str]) -> list[str]:
    """The expected lines that start no line of the output (a trailing `...` elides the rest)."""
    return [line for line in expected if not any(o.startswith(line.removesuffix("...").rstrip()) for o in output)]


def _yaml_blocks() -> list[object]:
    return [yaml.safe_load("\n".join(b.lines)) for b in blocks(README.read_text()) if b.info == "yaml"]


def test_the_pre_commit_snippet_pins_this_versions_release_tag() -> None:
    (config,) = [doc for doc in _yaml_blocks() if isinstance(doc, dict) and "repos" in doc]
    (repo,) = config["repos"]
    assert (repo["repo"], repo["rev"]) == (REPOSITORY, TAG)
    assert [hook["id"] for hook in repo["hooks"]] == ["vevents-validate"]


def test_the_github_actions_step_installs_this_versions_release_tag() -> None:
    workflows = [doc for doc in _yaml_blocks() if isinstance(doc, list)]  # GitHub Actions steps
    runs = "\n".join(step["run"] for steps in workflows for step in steps if "run" in step)
    installs = [line.strip() for line in runs.splitlines() if "pip install" in line]
    assert installs == [f'pip install "vevents @ git+{REPOSITORY}@{TAG}"'] * len(workflows), installs


def test_ci_runs_the_quick_starts_test_command() -> None:
    """The quick start's second command is not run here (it is the tests): .ci/run runs it, as is."""
    quick_start = next(b for b in blocks(README.read_text()) if b.info == "shell")
    test_command = quick_start.lines[1]
    assert test_command == "pip install -e '.[test]' && python -m pytest -q"
    assert test_command in (REPO / ".ci" / "run").read_text().splitlines()
