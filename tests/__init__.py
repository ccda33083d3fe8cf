"""vevents' test suite.

- `unit/`: import the package and call its functions (and read its code);
- `cli/`: run the real CLI, in-process (`invoke`) or as a child process (`run`, `popen`, `sh`,
  `listener`, `follower`), and look at what it prints and writes;
- `conformance/`: the generated schemas and samples against the vendor's reference data in
  ../shared (skipped without it) and against each other;
- `install/`: the package as users install it (wheel, sdist, pre-commit hook, dependency floors);
- `helpers/`: what tests share (`from tests.helpers import …`): the CLI runners in a clean, fixed
  environment, pseudo-terminals, NDJSON and vendor data;
- `tools/`: test tooling run by hand (`python -m tests.tools.fuzz --minutes 10`) or by bench/.

`python -m pytest -q` runs the default suite on every core (pytest-xdist, about 100 s on 2
cores). Tests marked `heavy` are left out of it (`addopts` in pyproject.toml) and run with
`python -m pytest -q -m heavy` (CI runs both): wheel and sdist builds, the pre-commit hook's
`try-repo`, the lowest dependency versions (the package index), `listen` under load and
floods, the 17 MiB parallel-vs-serial differential, the 1 GiB gzip bomb, the
python-jsonschema sweeps (every schema through the metaschema check, both engines over the
whole corpus), the default level's sweep over generated instances, fuzzing through the CLI,
and the README's examples run as one shell session. Longer fuzzing: `python -m tests.tools.fuzz`.
"""
