"""Exit statuses: every outcome of a run maps to one of these, in one place (`app.main`)."""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    OK = 0  # everything read (and, where it applies, valid / matching)
    FAILED = 1  # something invalid, unreadable, mismatched, or not written
    USAGE = 2  # the command line cannot be used
    INTERNAL = 70  # a bug in vevents (EX_SOFTWARE): please report it
    IO_ERROR = 74  # output could not be written: a full disk, a closed stdout (EX_IOERR)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    BROKEN_PIPE = 141  # the reader went away, e.g. `| head` (128 + SIGPIPE)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM)

    @classmethod
    def of(cls, failed: bool) -> ExitStatus:
        return cls.FAILED if failed else cls.OK
