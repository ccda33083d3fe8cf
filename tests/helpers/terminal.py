"""Pseudo-terminals: what a child wrote to one."""

from __future__ import annotations

import os


def read_pty(leader: int) -> bytes:
    """Everything written to a pseudo-terminal until its other side closes; closes `leader`."""
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty closed: the process is done
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    return seen
