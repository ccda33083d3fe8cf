"""The architecture's rules, checked on the code itself and through the real CLI.

- vendor knowledge lives in tables (`voucherify/`): no comparison against a dialect or an
  event type name anywhere else, and the `--dialect` choices, sample wrapping, data
  pointers and schema levels all come from the dialects table;
- commands are thin: no loops in `cli/` command modules; no import cycles in the package,
  counting imports inside functions;
- docs stay true: every module says what it does, README's "How it works" names modules
  that exist, every command is in the README with an example in its `--help`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import orjson
import pytest

from tests.helpers import REPO, invoke
from vevents_cli.cli.app import app
from vevents_cli.voucherify import catalogue, dialects

PACKAGE = REPO / "vevents_cli"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _constants(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _compared_strings(path: Path) -> list[tuple[int, str]]:
    """String constants that code compares against (`==`, `!=`, `in`, `startswith`, match cases)."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                found += [(node.lineno, value) for value in _constants(side)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("startswith", "endswith")
        ):
            found += [(node.lineno, value) for arg in node.args for value in _constants(arg)]
        elif isinstance(node, ast.match_case):
            found += [(node.pattern.lineno, value) for value in _constants(node.pattern)]
    return found


OUTSIDE_TABLES = [p for p in MODULES if "voucherify" not in p.parts]


@pytest.mark.parametrize("path", OUTSIDE_TABLES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_branching_on_dialects_or_event_types_outside_the_tables(path: Path) -> None:
    type_names = set(catalogue.CATALOGUE) | set(catalogue.ALIASES)
    prefixes = {name.rsplit(".", 1)[0] + "." for name in type_names if "." in name}
    for line, value in _compared_strings(path):
        assert value not in dialects.DIALECTS, f"{path.name}:{line} compares against dialect {value!r}"
        assert value not in type_names and value not in prefixes, f"{path.name}:{line} compares against {value!r}"


def test_dialect_choices_wrapping_and_pointers_come_from_the_table(tmp_path: Path) -> None:
    help_text = invoke("sample", "--help", env={"COLUMNS": "200"}).stdout
    assert "[" + "|".join(dialects.NAMES) + "]" in help_text, help_text
    for name, dialect in dialects.DIALECTS.items():
        payload = orjson.loads(invoke("sample", "voucher.published", "--dialect", name).stdout)
        assert dialects.detect(payload) is dialect
        path = tmp_path / f"{name}.json"
        path.write_bytes(orjson.dumps(payload))
        args = ("--as", "voucher.published") if not dialect.envelope else ()
        out = invoke("show", "--format", "json", *args, str(path)).stdout
        (shown,) = [orjson.loads(line) for line in out.splitlines()]
        assert shown["dialect"] == name and shown["type"] == "voucher.published"
        # a wrong data member is reported at the dialect's own data pointer
        broken = dialects.wrap({**payload_data(payload, dialect), "voucher": 1}, "voucher.published", name)
        path.write_bytes(orjson.dumps(broken))
        lines = invoke("validate", *args, str(path)).stdout.splitlines()
        assert any(f" {dialect.data_pointer}/voucher: " in line for line in lines), lines


def payload_data(payload: dict, dialect: dialects.Dialect) -> dict:
    data = payload
    for key in filter(None, dialect.data_pointer.split("/")):
        data = data[key]
    return data


def test_every_type_lists_only_table_dialects() -> None:
    rows = [orjson.loads(line) for line in invoke("types", "--format", "json").stdout.splitlines()]
    assert len(rows) == len(catalogue.CATALOGUE)
    for row in rows:
        assert set(row["dialects"]) <= set(dialects.NAMES)


# --- thin commands, no cycles ------------------------------------------------------------------

NOT_COMMANDS = ("__init__", "app", "options", "runs", "console", "fast")  # (fast: the fast path's argument parser)
COMMAND_MODULES = [p for p in (PACKAGE / "cli").glob("*.py") if p.stem not in NOT_COMMANDS]


@pytest.mark.parametrize("path", COMMAND_MODULES, ids=lambda p: p.name)
def test_command_modules_have_no_loops(path: Path) -> None:
    loops = [
        n
        for n in ast.walk(_tree(path))
        if isinstance(n, ast.For | ast.While | ast.AsyncFor | ast.ListComp | ast.GeneratorExp | ast.DictComp)
    ]
    assert not loops, f"{path.name}:{loops[0].lineno}: a loop in a command module (it belongs in pipeline/ or output/)"


def _import_nodes(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement under `node`, in functions too, but not in `if TYPE_CHECKING:` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append(child)
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.dump(child.test):
            for other in child.orelse:  # what runs when not type checking
                found += [other] if isinstance(other, ast.Import | ast.ImportFrom) else _import_nodes(other)
        else:
            found += _import_nodes(child)
    return found


def _imports(path: Path) -> set[str]:
    """Modules of the package this one imports, wherever it imports them (module level or
    inside functions), except in `if TYPE_CHECKING:` blocks."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        else:
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:  # `from pkg import module` imports the module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in KNOWN else base)
    return {m for m in found if m in KNOWN and m != name}


KNOWN = {_module_name(p) for p in MODULES}


def test_imports_inside_functions_are_seen() -> None:
    runs = _imports(PACKAGE / "cli" / "runs.py")
    assert "vevents_cli.pipeline" in runs  # imported only inside `start_run`
    assert "vevents_cli.pipeline.runner" not in runs  # imported only for type checking


def test_no_import_cycles() -> None:
    """No module imports, directly or through others, one that imports it: wherever the
    imports are (a package's own modules count too), type checking aside."""
    graph = {_module_name(p): _imports(p) for p in MODULES}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


# --- docs stay true ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_what_it_does(path: Path) -> None:
    if path.name == "__main__.py":
        return
    doc = ast.get_docstring(_tree(path))
    assert doc and len(doc) > 30, f"{path} has no module docstring"


def test_readme_how_it_works_names_modules_that_exist() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", section))
    assert len(named) >= 10, named
    for name in named:
        assert (PACKAGE / name).is_file(), f"README's How it works names {name}, which does not exist"


def test_every_command_is_documented_with_an_example() -> None:
    readme = (REPO / "README.md").read_text()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert len(commands) == 12
    for command in commands:
        assert f"vevents {command}" in readme, command
        help_text = invoke(command, "--help").stdout.replace("\n", " ")
        assert "Example" in help_text and f"vevents {command}" in help_text, command
