"""The package as users install it: wheel and sdist with their licence and metadata, schemas and samples.

The pre-commit hook: test_precommit_hook.py."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import orjson
import pytest

from tests.helpers import REPO
from vevents_cli import samples

pytestmark = pytest.mark.heavy


def _build(tmp_path_factory: pytest.TempPathFactory, kind: str, pattern: str) -> Path:
    """`python -m build --KIND` of this repository: the one file it makes."""
    out = tmp_path_factory.mktemp(kind)
    subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob(pattern)
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory, "wheel", "vevents-*.whl")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory, "sdist", "vevents-*.tar.gz")


URLS = {
    "Homepage": "https://github.com/vevents/vevents",
    "Repository": "https://github.com/vevents/vevents",
    "Issues": "https://github.com/vevents/vevents/issues",
    "Documentation": "https://github.com/vevents/vevents#readme",
}


def _check_metadata(text: str) -> None:
    meta = HeaderParser().parsestr(text)
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert urls == URLS
    classifiers = meta.get_all("Classifier")
    assert {
        "Environment :: Console",
        "Operating System :: POSIX",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    } <= set(classifiers)
    assert any(c.startswith("Topic :: ") for c in classifiers)
    # PEP 639: the SPDX expression replaces the License :: classifiers (never both).
    assert not any(c.startswith("License :: ") for c in classifiers)
    assert "voucherify" in meta["Keywords"].split(",")


def test_wheel_ships_license_and_metadata(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (dist_info,) = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" in name}
    license_text = archive.read(f"{dist_info}/licenses/LICENSE").decode()
    assert license_text == (REPO / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Copyright (c) 2026 the vevents authors" in license_text
    _check_metadata(archive.read(f"{dist_info}/METADATA").decode())


def test_sdist_ships_license_and_metadata(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        (root,) = {name.split("/")[0] for name in names}
        assert f"{root}/LICENSE" in names
        assert f"{root}/.pre-commit-hooks.yaml" in names
        assert archive.extractfile(f"{root}/LICENSE").read() == (REPO / "LICENSE").read_bytes()
        _check_metadata(archive.extractfile(f"{root}/PKG-INFO").read().decode())


def test_wheel_ships_schemas_and_samples(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "vevents_cli/schemas/default/data/voucher.published.json" in names
    assert "vevents_cli/schemas/strict/envelope/v2024.json" in names
    assert "vevents_cli/schemas/shapes.json" in names
    assert "vevents_cli/schemas/output/facts.v1.json" in names and "vevents_cli/schemas/output/report.v1.json" in names
    assert "vevents_cli/samples/voucher.published.json" in names
    assert not any(name.startswith(("tests/", "scripts/", "bench/")) for name in names)


def test_installed_wheel_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies come from this environment (no network); vevents itself from the wheel.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "deps-from-test-env.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True, timeout=300)
    where = subprocess.run(
        [py, "-c", "import vevents_cli; print(vevents_cli.__file__)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(venv))
    exe = venv / "bin" / "vevents"
    panel = subprocess.run(
        f"{exe} sample voucher.published | {exe} show",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert panel.returncode == 0, panel.stderr
    assert "voucher.published" in panel.stdout and "valid" in panel.stdout
    proc = subprocess.run(
        f"{exe} sample voucher.published | {exe} show --format json",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (event,) = [orjson.loads(line) for line in proc.stdout.splitlines()]
    expected = samples.sample("voucher.published")
    assert (event["type"], event["valid"], event["id"]) == ("voucher.published", True, expected["id"])
    proc = subprocess.run([exe, "schema", "voucher.published"], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"$ref" in proc.stdout
