"""Files written whole or not at all: a temporary file beside the target, renamed over it
when complete.

`Replacement(path)` writes into a hidden temporary file in the target's folder
(`.NAME.XXXXXXXX.tmp`, with the mode a new file would have, or the old file's); `commit`
renames it over the target (or, with `exclusive`, gives it the target's name only if no
file has it: a hard link, so a file that appears meanwhile is never overwritten), `discard`
removes it. Used as a context manager, whatever is not committed when the block ends
(an error, a full disk, Ctrl-C, SIGTERM, a closed pipe) is removed: the target keeps what
it held, and no half-written file is left behind to look complete. A target that exists and
is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) has nothing to replace: it is
written in place.

A write that fails raises `WriteError` naming the target (not the temporary file), which
the one exit path turns into one line and status 74.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO

from vevents_cli.output.stdio import WriteError

SUFFIX = ".tmp"


def _mode(path: Path) -> int:
    """The permissions the target gets: the old file's, else a new file's (0666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _special(path: Path) -> bool:
    """Whether `path` is there and not a regular file (a device, a FIFO): written in place."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


class Replacement:
    """A file being written beside `path`, which takes its place only on `commit`."""

    def __init__(self, path: Path, exclusive: bool = False) -> None:
        self.path = path
        self.exclusive = exclusive
        self.temporary: Path | None = None
        try:
            if _special(path):
                self.file: IO[bytes] = path.open("wb")
                return
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=SUFFIX)
            self.temporary = Path(name)
            self.file = os.fdopen(fd, "wb")
            os.fchmod(fd, _mode(path))
        except OSError as exc:
            self.discard()
            raise WriteError.of(exc, str(path)) from None

    def __enter__(self) -> Replacement:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def commit(self) -> None:
        """The file complete: closed, then in the target's place (FileExistsError if `exclusive`
        and a file has the name already: the temporary file is removed)."""
        try:
            self.file.close()
            if self.temporary is None:
                return
            if not self.exclusive:
                os.replace(self.temporary, self.path)
            else:
                try:
                    os.link(self.temporary, self.path)
                except FileExistsError:
                    raise
                except OSError:  # a file system without hard links: claim the name, then replace it
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                    os.replace(self.temporary, self.path)
                else:
                    self.temporary.unlink()
            self.temporary = None
        except FileExistsError:
            self.discard()
            raise
        except OSError as exc:
            self.discard()
            raise WriteError.of(exc, str(self.path)) from None

    def discard(self) -> None:
        """The file not wanted: closed and removed (nothing, once committed)."""
        with contextlib.suppress(OSError, AttributeError):
            self.file.close()
        if self.temporary is not None:
            with contextlib.suppress(OSError):
                self.temporary.unlink()
            self.temporary = None
