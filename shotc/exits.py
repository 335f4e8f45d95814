"""The exit codes of every command (the CLI contract): one home, imported by the CLI and the
stages that return a command's status; docs/cli.md's table is generated from `MEANINGS`."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERRORS = 1
    USAGE = 2
    API = 3
    IO = 4
    INTERRUPTED = 130
    TERMINATED = 143  # 128 + SIGTERM, as shells report it

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "ok (warnings allowed)",
    ExitCode.ERRORS: "the script or request has errors (nothing was sent); `fmt --check`: a "
    "file is not formatted",
    ExitCode.USAGE: "usage: an unknown option, a missing argument",
    ExitCode.API: "kie.ai refused or failed (online commands)",
    ExitCode.IO: "local I/O: a file that cannot be read, decoded or written",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); requests in flight are `unknown` until the "
    "next run",
    ExitCode.TERMINATED: "stopped by SIGTERM, handled like Ctrl-C",
}
