"""Files written whole or not at all: a temporary file beside the target, renamed over it
when complete.

`with Replacement(path) as r:` makes a hidden temporary file in the target's folder
(`.NAME.XXXXXXXX.tmp`, with the old file's permissions, or those a new file would have) and
gives it as `r.file`; `r.commit()` renames it over the target (or, `exclusive`, gives it the
target's name only if no file has it: a hard link, so a file that appears meanwhile is never
overwritten). Whatever is not committed when the block ends (an error, a full disk, Ctrl-C,
SIGTERM, a closed pipe) is removed: the target keeps what it held, and no half-written file
is left behind to look complete. The temporary file is made with Ctrl-C and SIGTERM held
back, and removed if they arrive before the block starts, so no moment of the run leaves
it behind (SIGKILL aside: a hidden `.tmp` file, which a folder walk skips). A target that
exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) has nothing to replace:
it is written in place; a symbolic link keeps pointing where it did, to the file replaced.

Errors name the target (not the temporary file): `CannotCreate` when the file cannot be
made at all (a missing folder, no permission), `WriteError` when writing or renaming it
fails (a full disk), which the one exit path turns into one line and status 74.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO

from vevents_cli.output.stdio import WriteError
from vevents_cli.signals import uninterrupted

SUFFIX = ".tmp"


class CannotCreate(WriteError):
    """The output file cannot be made at all (its folder is missing or not writable)."""


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

    file: IO[bytes]

    def __init__(self, path: Path, exclusive: bool = False) -> None:
        self.path = path  # as errors name it
        self.target = Path(os.path.realpath(path)) if path.is_symlink() else path  # a link's file is replaced
        self.exclusive = exclusive
        self.temporary: Path | None = None

    def __enter__(self) -> Replacement:
        try:
            if _special(self.target):
                self.file = self.target.open("wb")
                return self
            with uninterrupted():  # made and recorded together; a signal acts after that, below
                fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=f".{self.target.name}.", suffix=SUFFIX)
                self.temporary = Path(name)
            self.file = os.fdopen(fd, "wb")
            os.fchmod(fd, _mode(self.target))
        except OSError as exc:
            self.discard()
            raise CannotCreate.of(exc, str(self.path)) from None
        except BaseException:  # Ctrl-C or SIGTERM, held back while it was made
            self.discard()
            raise
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
                os.replace(self.temporary, self.target)
            else:
                try:
                    os.link(self.temporary, self.target)
                except FileExistsError:
                    raise
                except OSError:  # a file system without hard links: claim the name, then replace it
                    os.close(os.open(self.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                    os.replace(self.temporary, self.target)
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
