"""What the tests share: the real CLI in a clean environment (in-process and as a child process),
pseudo-terminals, long-running children (listen, show --follow), NDJSON and vendor data.

Tests import them from here: `from tests.helpers import invoke, run, ndjson`.
"""

from tests.helpers.cli import (
    CLEARED,
    FIXED,
    Result,
    clean_env,
    clean_environment,
    command,
    command_line,
    full_disk,
    interruptible,
    invoke,
    popen,
    run,
    sh,
)
from tests.helpers.data import (
    REPO,
    legacy_examples,
    ndjson,
    needs_vendor,
    user_schemas,
    vendor_examples,
    write_ndjson,
)
from tests.helpers.processes import Listener, first_line, follower, listener, stopped_at_exit
from tests.helpers.terminal import read_pty

__all__ = [
    "CLEARED",
    "FIXED",
    "REPO",
    "Listener",
    "Result",
    "clean_env",
    "clean_environment",
    "command",
    "command_line",
    "first_line",
    "follower",
    "full_disk",
    "interruptible",
    "invoke",
    "legacy_examples",
    "listener",
    "ndjson",
    "needs_vendor",
    "popen",
    "read_pty",
    "run",
    "sh",
    "stopped_at_exit",
    "user_schemas",
    "vendor_examples",
    "write_ndjson",
]
