"""The package as users install it: a wheel with its schemas and samples, the pre-commit hook."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import orjson
import pytest
from conftest import REPO

from vevents_cli import samples

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    (path,) = out.glob("vevents-*.whl")
    return path


def test_wheel_ships_schemas_and_samples(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "vevents_cli/schemas/default/data/voucher.published.json" in names
    assert "vevents_cli/schemas/strict/envelope/v2024.json" in names
    assert "vevents_cli/schemas/shapes.json" in names
    assert "vevents_cli/samples/voucher.published.json" in names
    assert not any(name.startswith(("tests/", "scripts/", "bench/")) for name in names)


def test_installed_wheel_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies come from this environment (no network); vevents itself from the wheel.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "deps-from-test-env.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True,
                   timeout=300)
    where = subprocess.run([py, "-c", "import vevents_cli; print(vevents_cli.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(venv))
    exe = venv / "bin" / "vevents"
    panel = subprocess.run(f"{exe} sample voucher.published | {exe} show", shell=True, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert panel.returncode == 0, panel.stderr
    assert "voucher.published" in panel.stdout and "valid" in panel.stdout
    proc = subprocess.run(f"{exe} sample voucher.published | {exe} show --format json", shell=True, cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (event,) = [orjson.loads(line) for line in proc.stdout.splitlines()]
    expected = samples.sample("voucher.published")
    assert (event["type"], event["valid"], event["id"]) == ("voucher.published", True, expected["id"])
    proc = subprocess.run([exe, "schema", "voucher.published"], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"$ref" in proc.stdout


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_pre_commit_hook(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _git(project, "init", "-q")
    (project / "fixtures").mkdir()
    (project / "fixtures" / "good.json").write_bytes(orjson.dumps(samples.sample("voucher.published")))
    broken = samples.sample("voucher.published")
    broken["data"]["voucher"] = ["not", "an", "object"]
    (project / "fixtures" / "broken.json").write_bytes(orjson.dumps(broken))
    (project / "README.txt").write_text("not a fixture")
    _git(project, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "vevents-validate",
                           "--all-files"], cwd=project, capture_output=True, text=True, env=env, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "fixtures/broken.json:1 voucher.published /data/voucher: expected object" in output
    assert "1 valid, 1 invalid, 0 unreadable" in output
    (project / "fixtures" / "broken.json").unlink()
    _git(project, "add", "-A")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "vevents-validate",
                           "--all-files"], cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
