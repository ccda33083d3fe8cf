"""Ctrl-C and SIGTERM held back for a block that must not be cut in the middle.

`uninterrupted()` blocks both signals in the main thread until the block ends; one that
arrives meanwhile acts as usual right after it. Used where an exception raised by the
signal handler would do harm: a file made and recorded as made (`output/atomic.py`), and
the import of jsonschema-rs, whose Rust initialisation panics (or crashes the process)
when an exception is raised inside the standard-library imports it makes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back until the block ends (then they act as usual)."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = block(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, held)
