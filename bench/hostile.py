"""Hostile and unlucky input: time and peak memory of `vevents validate -q` on each case.

    python bench/hostile.py                # every case (builds ~1.3 GB of input in a temp folder)
    python bench/hostile.py --only blank   # cases whose name contains "blank"

Each case runs the real program as a subprocess from a small helper process that reports
`getrusage(RUSAGE_CHILDREN)`: wall seconds, user+system CPU seconds and peak RSS (MiB)
of the program alone (for stdin cases, of the program and a small generator feeding it
1 MiB at a time, never of this script). The inputs are built from the bundled samples.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.tools.measure import measured  # noqa: E402
from vevents_cli import samples  # noqa: E402
from vevents_cli.voucherify.catalogue import SCHEMA_TYPES  # noqa: E402

MiB = 1 << 20
LONG_LINE = (
    'import sys\nw = sys.stdout.buffer.write\nw(b\'{"id":"whs_1","data":{"note":"\')\n'
    "piece = b'a' * (1 << 20)\nfor _ in range(200):\n    w(piece)\nw(b'\"}}\\n')\n"
)


def events(n: int) -> list[dict[str, Any]]:
    dialects = ("v2024", "distribution", "legacy")
    return [samples.sample(SCHEMA_TYPES[i % len(SCHEMA_TYPES)], dialects[i % 3]) for i in range(n)]


def gzip_of(path: Path, block: bytes, count: int, tail: bytes = b"") -> Path:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as f:
        for _ in range(count):
            f.write(compressor.compress(block))
        f.write(compressor.compress(tail))
        f.write(compressor.flush())
    return path


def capture(path: Path, pretty_mb: float) -> Path:
    event = samples.sample("voucher.published")
    filler = samples.sample("customer.created")["data"]
    size = len(orjson.dumps(filler, option=orjson.OPT_INDENT_2))
    event["data"]["padding"] = [filler] * int(pretty_mb * MiB / size)
    body = orjson.dumps(event, option=orjson.OPT_INDENT_2)
    path.write_bytes(
        b"POST /hooks HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    return path


def cases(folder: Path) -> dict[str, Callable[[], tuple[list[str], str]]]:
    def file(name: str, build: Callable[[Path], Path]) -> Callable[[], tuple[list[str], str]]:
        return lambda: ([str(build(folder / name))], "")

    def pretty_array(n: int) -> Callable[[Path], Path]:
        return lambda p: (p.write_bytes(orjson.dumps(events(n), option=orjson.OPT_INDENT_2)), p)[1]

    def pretty_values(n: int) -> Callable[[Path], Path]:
        return lambda p: (p.write_bytes(b"\n".join(orjson.dumps(e, option=orjson.OPT_INDENT_2) for e in events(n))), p)[
            1
        ]

    def cut_first(p: Path) -> Path:
        lines = [orjson.dumps(e) for e in events(2000)]
        lines[0] = lines[0][: lines[0].index(b",", lines[0].index(b"[")) + 1]
        p.write_bytes(b"\n".join(lines) + b"\n")
        return p

    return {
        "/dev/zero": lambda: (["/dev/zero"], ""),
        "gzip of 1 GiB of zeros (1 MB)": file("zeros.json.gz", lambda p: gzip_of(p, bytes(MiB), 1024)),
        "200 MiB single line (stdin)": lambda: (["-"], LONG_LINE),
        "gzip of 100 MiB of newlines": file("blank100.ndjson.gz", lambda p: gzip_of(p, b"\n" * MiB, 100)),
        "gzip of 1 GiB of newlines": file("blank1g.ndjson.gz", lambda p: gzip_of(p, b"\n" * MiB, 1024)),
        "NDJSON, first line cut (2,000 events)": file("cut.ndjson", cut_first),
        "pretty array, 2,000 events": file("array2000.json", pretty_array(2000)),
        "pretty array, 4,000 events": file("array4000.json", pretty_array(4000)),
        "pretty values, 2,000 events": file("values2000.json", pretty_values(2000)),
        "pretty values, 4,000 events": file("values4000.json", pretty_values(4000)),
        "array of 1M empty objects (3 MB)": file(
            "empty.json", lambda p: (p.write_bytes(b"[" + b"{}," * MiB + b"{}]\n"), p)[1]
        ),
        "captured request, 2.5 MB pretty body": file("big.http", lambda p: capture(p, 2.5)),
        "captured request, 10 MB pretty body": file("bigger.http", lambda p: capture(p, 10)),
    }


def run(paths: list[str], generator: str) -> dict[str, Any]:
    report = measured([sys.executable, "-m", "vevents_cli", "validate", "-q", *paths], generator, timeout=3600)
    report["peak"] /= MiB
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':42} {'exit':>4} {'seconds':>8} {'cpu s':>7} {'peak MiB':>9}  result")
        for name, build in cases(Path(tmp)).items():
            if args.only not in name:
                continue
            started = time.perf_counter()
            paths, generator = build()
            built = time.perf_counter() - started
            report = run(paths, generator)
            result = (report["stderr"].strip().splitlines() or [""])[0][:70] or report["stdout"].strip()[-60:]
            print(
                f"{name:42} {report['code']:>4} {report['seconds']:>8.2f} {report['cpu']:>7.2f} "
                f"{report['peak']:>9.1f}  {result}   (input built in {built:.1f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
