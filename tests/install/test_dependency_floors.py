"""Dependency floors are honest: the lowest version every direct dependency allows works.

A fresh virtual environment gets exactly the floor (`>=X`) of each of `pyproject.toml`'s
dependencies, then vevents itself; a smoke test validates the samples (details of an
invalid event included) and shows one. Needs the package index (network): marked heavy.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import orjson
import pytest
from packaging.version import Version

from tests.helpers import REPO
from vevents_cli import samples

pytestmark = pytest.mark.heavy


def floors() -> list[str]:
    """`name==floor` for every direct dependency (each must have one)."""
    pins = []
    for dependency in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?", dependency)
        assert match, f"{dependency}: every direct dependency needs a floor (>=)"
        pins.append(f"{match[1]}=={match[2]}")
    return pins


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_has_a_floor() -> None:
    assert {pin.split("==")[0] for pin in floors()} >= {
        "typer",
        "click",
        "rich",
        "orjson",
        "jsonschema",
        "jsonschema-rs",
    }


def test_the_lowest_allowed_versions_work(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    install = subprocess.run(
        [py, "-m", "pip", "install", "-q", str(REPO), *floors()], capture_output=True, text=True, timeout=900
    )
    assert install.returncode == 0, install.stderr[-2000:]
    listed = subprocess.run([py, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    installed = {
        _name(line.split("==")[0]): Version(line.split("==")[1]) for line in listed.splitlines() if "==" in line
    }
    for pin in floors():
        name, floor = pin.split("==")
        assert installed[_name(name)] == Version(floor), f"{name}: {installed[_name(name)]} installed, not {floor}"

    exe = venv / "bin" / "vevents"
    ok = subprocess.run([exe, "validate", str(REPO / "samples")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.endswith(" valid, 0 invalid, 0 unreadable\n")
    shown = subprocess.run(
        [exe, "show", str(REPO / "samples" / "voucher.published.json")], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0 and "voucher.published" in shown.stdout, shown.stderr

    broken = samples.sample("voucher.published")
    broken["data"]["voucher"] = {**broken["data"]["voucher"], "type": "WRONG"}
    del broken["data"]["voucher"]["code"]
    (tmp_path / "broken.json").write_bytes(orjson.dumps(broken))
    bad = subprocess.run([exe, "validate", str(tmp_path / "broken.json")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert "/data/voucher/code: required member is missing" in bad.stdout
    assert "/data/voucher/type: 'WRONG' is not one of 'DISCOUNT_VOUCHER'" in bad.stdout
