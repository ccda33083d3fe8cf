"""Any name a file system allows, and hostile payload text, in every report format (issue 18,
items 11 and 12), through the real CLI in child processes (real argv bytes, real stdout).

Names are reported as they are, except bytes that are not UTF-8, written as `\\xNN` text in
every format (`text.name`); then each format escapes what it must: JSON parses (orjson),
JUnit parses (an XML parser), every `--format github` line is a well-formed workflow command
or the summary line, and no line of any format starts a workflow command (`::`) unless it is
one of vevents' own annotations.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest

from tests.helpers import run
from vevents_cli import samples

NAMES = [
    b"\xff.json",  # not UTF-8
    b"caf\xe9 \xc3(.json",  # Latin-1 and a broken UTF-8 sequence
    b"::error::x.json",  # a workflow command, if a line started with it
    b"::warning file=a,line=1::owned\xff.json",
    b"new\nline::error::y.json",  # a newline, then a workflow command
    b"100% a,b:c.json",  # what GitHub's properties escape
    b"bell\x07esc\x1b[31mred\x7f.json",  # control characters
    b"  ::notice::z.json",  # a command after white space (the runner skips it)
]
FORMATS = ("text", "json", "junit", "github")
# One of vevents' own annotations: `::error` or `::warning`, properties with nothing unescaped
# in them, then the message (no line end in it: this is one line).
ANNOTATION = re.compile(r"::(error|warning) (file=[^:,\r\n]*,line=\d+(,col=\d+)?,)?title=[^:,\r\n]*::[^\r\n]*")
SUMMARY = re.compile(r"\d+ valid, \d+ invalid, \d+ unreadable.*")


def hostile(event_type: str = "customer.rewarded") -> dict[str, object]:
    """A sample event whose type and texts carry a terminal escape and workflow commands."""
    event = samples.sample(event_type)
    event["type"] = "::error::\x1b]0;owned\x07\x1b[31mcustomer.rewarded%0A::warning::x"
    return event


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one valid event, one invalid event and one broken line under each name."""
    root = tmp_path_factory.mktemp("names")
    good = orjson.dumps(samples.sample("customer.rewarded"))
    for i, name in enumerate(NAMES):
        body = good if i % 3 == 0 else orjson.dumps(hostile()) if i % 3 == 1 else good + b'\n{"cut'
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(body + b"\n")
    return root


def validate(folder: Path, fmt: str) -> tuple[int, bytes, bytes]:
    paths = [os.fsdecode(os.path.join(os.fsencode(folder), name)) for name in NAMES]
    proc = run("validate", "--format", fmt, *paths)
    return proc.returncode, proc.stdout, proc.stderr


def no_command_lines(output: bytes, ours: re.Pattern[str] | None = None) -> None:
    """No line starts a workflow command, except (`ours`) vevents' own annotations."""
    for line in output.decode().split("\n"):
        if line.lstrip().startswith("::"):
            assert ours is not None and ours.fullmatch(line), line


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reports_every_name_with_status_1_and_no_internal_error(folder: Path, fmt: str) -> None:
    status, out, err = validate(folder, fmt)
    assert status == 1, err
    assert b"internal error" not in err and b"Traceback" not in err
    assert b"\x1b" not in out + err and b"\x07" not in out + err
    no_command_lines(out, ANNOTATION if fmt == "github" else None)
    no_command_lines(err)
    assert "xe9 " in out.decode() + err.decode()  # caf\\xe9 \\xc3(.json, escaped as each format does


def test_json_keeps_names_exact_but_for_undecodable_bytes(folder: Path) -> None:
    _, out, _ = validate(folder, "json")
    document = orjson.loads(out)  # orjson refuses lone surrogates: the report must be UTF-8
    sources = {e["source"].rsplit("/", 1)[-1] for e in document["events"] + document["unreadable"]}
    assert sources == {
        "\\xff.json",
        "caf\\xe9 \\xc3(.json",
        "::error::x.json",
        "::warning file=a,line=1::owned\\xff.json",
        "new\nline::error::y.json",
        "100% a,b:c.json",
        "bell\x07esc\x1b[31mred\x7f.json",
        "  ::notice::z.json",
    }
    assert document["summary"]["unreadable"] == 2 and document["summary"]["invalid"] == 3


def test_junit_is_xml_with_every_name(folder: Path) -> None:
    _, out, _ = validate(folder, "junit")
    suite = ET.fromstring(out)
    files = {case.get("file", "").rsplit("/", 1)[-1] for case in suite.iter("testcase")}
    assert "\\xff.json" in files
    assert "100% a,b:c.json" in files
    assert "new\nline::error::y.json" in files  # an attribute keeps its line end (&#10;)
    assert "bell\\x07esc\\x1b[31mred\\x7f.json" in files  # what XML cannot hold: visible escapes
    assert suite.get("errors") == "2" and suite.get("failures") == "3"


def test_github_annotations_escape_names_and_titles(folder: Path) -> None:
    _, out, _ = validate(folder, "github")
    lines = out.decode().splitlines()
    assert all(ANNOTATION.fullmatch(line) for line in lines[:-1]), lines
    assert SUMMARY.fullmatch(lines[-1])
    text = out.decode()
    assert "%3A%3Aerror%3A%3Ax.json," in text
    assert "100%25 a%2Cb%3Ac.json" in text and "new%0Aline%3A%3Aerror%3A%3Ay.json" in text
    # the event type's ESC and BEL as visible escapes (GitHub has no encoding for them), % encoded
    assert "title=%3A%3Aerror%3A%3A\\x1b]0;owned\\x07\\x1b[31mcustomer.rewarded%250A%3A%3Awarning%3A%3Ax::" in text


def test_text_lines_never_start_a_workflow_command(folder: Path, tmp_path: Path) -> None:
    """A fixture named `::error::x.json`, given as a relative name: every line naming it starts with it."""
    for name in (b"::error::x.json", b"::warning file=a,line=1::owned\xff.json", b"  ::notice::z.json"):
        src = os.path.join(os.fsencode(folder), name)
        for args in (("validate",), ("verify", "--secret", "s", "--signature", "00")):
            proc = run(*args, os.fsdecode(name), cwd=os.fsencode(folder))
            assert proc.returncode in (0, 1), proc.stderr
            assert args[0] == "validate" or proc.stdout.lstrip().startswith(b"\\x3a:")  # a line per event
            no_command_lines(proc.stdout)
            no_command_lines(proc.stderr)
        assert os.path.exists(src)


def test_verify_github_format_escapes_names(folder: Path) -> None:
    proc = run(
        "verify", "--format", "github", "--secret", "s", "--signature", "00", "::error::x.json", "\udcff.json",
        cwd=folder,
    )  # fmt: skip
    assert proc.returncode == 1 and b"internal error" not in proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert all(ANNOTATION.fullmatch(line) for line in lines[:-1]), lines
    assert any("file=%3A%3Aerror%3A%3Ax.json," in line for line in lines)
    assert any("file=\\xff.json," in line for line in lines)


def test_verify_json_with_an_undecodable_name_parses(folder: Path) -> None:
    proc = run("verify", "--format", "json", "--secret", "s", "--signature", "00", "\udcff.json", cwd=folder)
    assert proc.returncode == 1
    assert orjson.loads(proc.stdout)["events"][0]["locator"] == "\\xff.json:1"


@pytest.mark.parametrize("args", [("show", "--format", "json"), ("stats", "--format", "json")])
def test_show_and_stats_json_parse_with_an_undecodable_name(folder: Path, args: tuple[str, ...]) -> None:
    proc = run(*args, "\udcff.json", "::error::x.json", cwd=folder)
    assert proc.returncode == 1, proc.stderr  # ::error::x.json has a broken line
    values = (
        [orjson.loads(line) for line in proc.stdout.splitlines()] if args[0] == "show" else [orjson.loads(proc.stdout)]
    )
    assert values
    if args[0] == "show":
        assert {v["source"] for v in values} == {"\\xff.json", "::error::x.json"}
