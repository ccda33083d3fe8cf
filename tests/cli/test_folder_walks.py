"""Folder walks: each real file once, loops noted, unreadable entries reported, hidden ones skipped."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from tests.helpers import invoke, ndjson
from vevents_cli import samples
from vevents_cli.pipeline import sources

TYPES = ["voucher.published", "customer.created", "redemption.succeeded", "customer.rewarded"]


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    """A fixtures folder as a project keeps it: a few types, in subfolders."""
    root = tmp_path / "fixtures"
    for number, etype in enumerate(TYPES):
        folder = root / etype.split(".")[0]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number}-{etype}.json").write_bytes(orjson.dumps(samples.sample(etype)))
    return root


def shown(*args: str) -> tuple[int, list[str], list[str]]:
    result = invoke("show", "--format", "json", *args)
    assert "Traceback" not in result.output
    return result.exit_code, [Path(e["source"]).name for e in ndjson(result.stdout)], result.stderr.splitlines()


def test_links_back_up_are_noted_once_each_and_every_file_is_read_once(fixtures: Path) -> None:
    (fixtures / "x").symlink_to(".")
    (fixtures / "y").symlink_to(".")
    (fixtures / "customer" / "up").symlink_to("..")
    code, names, errors = shown(str(fixtures))
    assert code == 0  # notes are not errors
    assert sorted(names) == sorted(f"{n}-{t}.json" for n, t in enumerate(TYPES))
    assert errors == [
        f"vevents: {fixtures / 'customer' / 'up'}: a link to a folder already read: skipped",
        f"vevents: {fixtures / 'x'}: a link to a folder already read: skipped",
        f"vevents: {fixtures / 'y'}: a link to a folder already read: skipped",
    ]


def test_a_second_path_to_a_file_is_read_once(fixtures: Path, tmp_path: Path) -> None:
    first = fixtures / "voucher" / "0-voucher.published.json"
    (fixtures / "voucher" / "hard.json").hardlink_to(first)
    (fixtures / "voucher" / "soft.json").symlink_to(first.name)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "fixtures").symlink_to(fixtures)  # the same folder under another name
    code, names, errors = shown(str(first), str(fixtures), str(tmp_path / "elsewhere"))
    assert code == 0
    assert names.count("0-voucher.published.json") == 1 and len(names) == len(TYPES)
    assert errors == [
        f"vevents: {fixtures / 'voucher' / '0-voucher.published.json'}: the same file as one already read: skipped",
        f"vevents: {fixtures / 'voucher' / 'hard.json'}: the same file as one already read: skipped",
        f"vevents: {fixtures / 'voucher' / 'soft.json'}: the same file as one already read: skipped",
        f"vevents: {tmp_path / 'elsewhere' / 'fixtures'}: a link to a folder already read: skipped",
    ]


def test_validate_quiet_prints_no_notes(fixtures: Path) -> None:
    (fixtures / "x").symlink_to(".")
    result = invoke("validate", "-q", str(fixtures))
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.strip() == f"{len(TYPES)} valid, 0 invalid, 0 unreadable"


def test_an_unlistable_folder_is_reported_and_its_siblings_are_read(
    fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = fixtures / "customer"
    real = os.scandir

    def scandir(path: os.PathLike[str] | str = ".") -> object:
        if Path(path) == locked:  # what a folder without read permission does (tests run as root)
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(sources.os, "scandir", scandir)
    code, names, errors = shown(str(fixtures))
    assert code == 1
    assert sorted(names) == ["0-voucher.published.json", "2-redemption.succeeded.json"]
    assert errors == [f"vevents: {locked}: cannot list folder: Permission denied"]


def test_broken_links_fifos_and_hidden_entries(fixtures: Path) -> None:
    (fixtures / "gone.json").symlink_to("nowhere.json")
    (fixtures / "self.json").symlink_to("self.json")
    os.mkfifo(fixtures / "pipe.ndjson")  # reading it would wait for a writer forever
    (fixtures / ".git").mkdir()
    (fixtures / ".git" / "old.json").write_bytes(b"{oops")
    (fixtures / ".#lock.json").symlink_to("user@host.1234")  # an editor's lock file
    (fixtures / "._apple.json").write_bytes(b"\x00\x05\x16\x07 resource fork")
    code, names, errors = shown(str(fixtures))
    assert code == 1
    assert len(names) == len(TYPES)
    assert errors == [
        f"vevents: {fixtures / 'gone.json'}: no such file or folder (a broken link)",
        f"vevents: {fixtures / 'pipe.ndjson'}: not a regular file (a FIFO, socket or device): give "
        "it by name to read it",
        f"vevents: {fixtures / 'self.json'}: cannot read: Too many levels of symbolic links",
    ]
    code, names, _ = shown(str(fixtures / ".git"))  # named: read
    assert code == 1 and names == []


def test_a_deep_folder_is_walked_without_recursion_limits(tmp_path: Path) -> None:
    folder = tmp_path
    for _ in range(300):
        folder = folder / "d"
    folder.mkdir(parents=True)
    (folder / "deep.json").write_bytes(orjson.dumps(samples.sample("voucher.published")))
    code, names, _ = shown(str(tmp_path))
    assert code == 0 and names == ["deep.json"]
