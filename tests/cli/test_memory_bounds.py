"""Bounds: hostile input gives one clear error with bounded memory, measured as the peak RSS.

Each case runs the real program in a fresh helper process, which reports
`getrusage(RUSAGE_CHILDREN).ru_maxrss` for its children only: the program itself and, for
input on stdin, a small generator process writing it in 1 MiB pieces (never the test's
own memory). No timed assertions.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson
import pytest

from tests.helpers import command
from tests.tools.measure import measured
from vevents_cli import samples

MiB = 1024 * 1024


# 200 MiB of one JSON value on one line, then one good event on the next line.
LONG_LINE = (
    "import sys\n"
    "w = sys.stdout.buffer.write\n"
    'w(b\'{"id":"whs_1","type":"voucher.published","data":{"note":"\')\n'
    "piece = b'a' * (1 << 20)\n"
    "for _ in range(200):\n"
    "    w(piece)\n"
    "w(b'\"}}\\n')\n"
    "w(sys.argv[1].encode() + b'\\n')\n"
)


def peak_run(*args: str, generator: str = "", generator_arg: str = "") -> dict:
    """Run `vevents ARGS` (stdin from `generator`, if any) and report its exit code, output and peak RSS."""
    if generator:
        generator = f"import sys; sys.argv[1:] = {[generator_arg]!r}\n" + generator
    report = measured(command(*args), generator)
    assert "Traceback" not in report["stderr"], report["stderr"]
    return report


@pytest.fixture(scope="module")
def zeros_gz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 GiB stream of NUL bytes, gzip-compressed to about 1 MB."""
    path = tmp_path_factory.mktemp("bomb") / "events.json.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    with path.open("wb") as f:
        for _ in range(1024):
            f.write(compressor.compress(block))
        f.write(compressor.flush())
    assert path.stat().st_size < 2 * MiB
    return path


def test_dev_zero_is_one_error_with_bounded_memory() -> None:
    report = peak_run("validate", "/dev/zero")
    assert report["code"] == 1
    assert report["stderr"].splitlines() == ["vevents: /dev/zero:1: binary data, not JSON text"]
    assert report["peak"] < 100 * MiB, report["peak"]


@pytest.mark.heavy  # compresses, then decompresses, 1 GiB
def test_a_gzip_bomb_of_zeros_is_one_error_with_bounded_memory(zeros_gz: Path) -> None:
    report = peak_run("show", "--format", "json", str(zeros_gz))
    assert report["code"] == 1 and report["stdout"] == ""
    assert report["stderr"].splitlines() == [f"vevents: {zeros_gz}:1: binary data, not JSON text"]
    assert report["peak"] < 100 * MiB, report["peak"]


@pytest.mark.parametrize(
    ("option", "bound"), [((), 64 * MiB), (("--max-value-size", "4M"), 4 * MiB)], ids=["default-64M", "4M"]
)
def test_a_200_mib_line_is_one_error_and_memory_follows_the_limit(option: tuple[str, ...], bound: int) -> None:
    good = orjson.dumps(samples.sample("voucher.published")).decode()
    report = peak_run("validate", *option, "-", generator=LONG_LINE, generator_arg=good)
    size = "64 MiB" if not option else "4 MiB"
    assert report["stderr"].splitlines() == [f"vevents: <stdin>:1: line longer than {size} (--max-value-size): skipped"]
    assert "1 valid, 0 invalid, 1 unreadable" in report["stdout"]  # the next line is read
    assert report["peak"] < bound + 80 * MiB, report["peak"]  # the limit, plus the interpreter and its modules


def test_a_file_of_blank_lines_costs_nothing_per_line(tmp_path: Path) -> None:
    path = tmp_path / "blank.ndjson.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    event = orjson.dumps(samples.sample("voucher.published"))
    with path.open("wb") as f:
        f.write(compressor.compress(b"\n" * (64 * MiB) + event + b"\n" + b"\r\n  \n" * MiB))
        f.write(compressor.flush())
    report = peak_run("show", "--format", "json", str(path))
    assert report["code"] == 0, report["stderr"]
    assert orjson.loads(report["stdout"])["line"] == 64 * MiB + 1  # blank lines still count as lines
    assert report["peak"] < 100 * MiB, report["peak"]
