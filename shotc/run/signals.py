"""Run stage: SIGINT and SIGTERM, handled alike, and the exit code each one ends a command with.

A service manager, `timeout` or a container runtime stops a process with SIGTERM; it must get
what Ctrl-C gets (POSTs in flight answered and recorded, the summary, a clean exit), not a
sudden death that leaves them `unknown`. The exit code is the shell's 128 + N: 130 after
SIGINT, 143 after SIGTERM, so whoever sent the signal can tell. Imports nothing heavy: the
online commands install the SIGTERM handler before they load httpx.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from shotc.exits import ExitCode

SIGNAL_EXIT: dict[int, ExitCode] = {
    signal.SIGINT: ExitCode.INTERRUPTED,
    signal.SIGTERM: ExitCode.TERMINATED,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so one `except` serves both."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def install() -> None:
    """SIGTERM raises Terminated (outside the orchestrator, which handles both itself)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


def exit_code(exc: BaseException | None) -> int:
    signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
    return SIGNAL_EXIT[signum]
