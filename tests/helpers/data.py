"""Test data: NDJSON logs, and the vendor's reference data in ../shared (tests skip without it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from scripts import vendor

REPO = Path(__file__).resolve().parents[2]

NO_VENDOR = "../shared/vendor/voucherify not present: vendor conformance tests skipped"
needs_vendor = pytest.mark.skipif(not vendor.available(), reason=NO_VENDOR)


def vendor_examples() -> list[tuple[str, dict[str, Any]]]:
    return vendor.examples() if vendor.available() else []


def legacy_examples() -> list[tuple[str, dict[str, Any]]]:
    return vendor.legacy_examples() if vendor.available() else []


def ndjson(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def write_ndjson(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))
    return path


def user_schemas(tmp_path: Path, name: str, content: bytes) -> tuple[Path, Path]:
    """A `--schemas` folder holding one file `name`, and a log of one valid voucher.published
    event to validate with it: (folder, log)."""
    from vevents_cli import samples

    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / name).write_bytes(content)
    return folder, write_ndjson(tmp_path / "one.ndjson", [samples.sample("voucher.published")])
