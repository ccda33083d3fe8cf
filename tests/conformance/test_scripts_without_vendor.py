"""generate_schemas.py without the vendor's reference data (a clone without ../shared).

`VEVENTS_VENDOR_DIR` (read by scripts/vendor.py) points it at a folder that does not exist: one
line naming the missing OpenAPI file, exit 2, nothing written. (generate_samples.py reads only
the bundled schemas/: tests/conformance/test_bundled_samples.py::test_check_passes runs its
`--check` without the vendor's data.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, clean_env


def _script(name: str, *args: str, vendor: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, f"scripts/{name}", *args],
        cwd=REPO,
        env=clean_env({"VEVENTS_VENDOR_DIR": str(vendor)}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", [[], ["--check"]], ids=["write", "check"])
def test_generate_schemas_without_vendor_data_says_so_in_one_line(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "no-such-vendor-folder"
    out = tmp_path / "schemas"
    result = _script("generate_schemas.py", *args, "--out", str(out), vendor=missing)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"generate_schemas.py: the vendor's reference data is missing ({missing / 'OpenAPIWebhooks.json'} "
        "not found): put it in ../shared/vendor/voucherify/ or set VEVENTS_VENDOR_DIR\n"
    )
    assert not out.exists()
