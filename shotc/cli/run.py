"""CLI: the online commands `plan`, `run`, `status` and `credits` (click layer only).

Options are parsed here and handed to `shotc.run.commands`, which is imported inside each
command so that merely listing commands (`shotc --help`) does not load httpx. Each command
installs the SIGTERM handler first and turns a Ctrl-C or SIGTERM that lands while its modules
load into exit 130 or 143, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from shotc.cli.options import config_option, json_option, selection_options
from shotc.run import signals
from shotc.run.selection import Selection

if TYPE_CHECKING:
    from shotc.run.commands import Streams

_FILE = click.Path(path_type=Path, dir_okay=False)


_allow = click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="CODE",
    help="Leave out this warning (repeatable; also `allow = [...]` in shotc.toml).",
)


def _allowed(
    codes: tuple[str, ...], files: tuple[Path, ...], config: Path | None
) -> frozenset[str]:
    from shotc.allow import AllowError, allowed_codes

    try:
        return allowed_codes(codes, files, config)
    except AllowError as exc:
        raise click.UsageError(str(exc)) from None


def _streams() -> Streams:
    from shotc.run.commands import Streams

    return Streams(out=sys.stdout, err=sys.stderr)


def _exit_with(body: Callable[[], int]) -> NoReturn:
    """Run a command body (which imports its modules) with SIGTERM handled like Ctrl-C."""
    signals.install()
    try:
        code = body()
    except KeyboardInterrupt as exc:  # while importing, before the body's own handling
        sys.stderr.write("interrupted\n")
        code = signals.exit_code(exc)
    sys.exit(code)


@click.command("plan")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@selection_options
@config_option()
@json_option()
@_allow
def plan_command(
    files: tuple[Path, ...],
    selection: Selection,
    config_path: Path | None,
    as_json: bool,
    allow: tuple[str, ...],
) -> None:
    """Per scene and take: shots, seconds, mode, sound, estimated credits and dollars, ledger
    state; what the same `run` would send and spend (it takes run's selection options)."""

    def body() -> int:
        from shotc.run.commands import plan

        return plan(
            files,
            selection,
            config_path=config_path,
            as_json=as_json,
            streams=_streams(),
            allow=_allowed(allow, files, config_path),
        )

    _exit_with(body)


@click.command("run")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@selection_options
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow tasks until their clips are downloaded.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    # A file here is refused by the run's preflight (exit 4, local I/O), like any other
    # directory clips cannot be written to, rather than by click (exit 2).
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write clips to DIR/<scene-id>.mp4 (default renders/<script-stem>/ beside the script).",
)
@config_option()
@json_option("Print the summary as JSON.")
@_allow
def run_command(
    files: tuple[Path, ...],
    selection: Selection,
    wait: bool,
    out_dir: Path | None,
    config_path: Path | None,
    as_json: bool,
    allow: tuple[str, ...],
) -> None:
    """Upload local media, submit every scene not already done or running, follow the
    tasks and download each clip as soon as it is ready.

    The ledger is .shotc/ledger.sqlite beside each script, or the one SHOTC_LEDGER (or
    `ledger = "..."` in shotc.toml) names: a path, or a postgresql:// URL that several
    machines share (each scene is sent by one of them, the others follow it)."""

    def body() -> int:
        from shotc.run.commands import RunRequest, run

        request = RunRequest(
            files=files,
            selection=selection,
            wait=wait,
            out_dir=out_dir,
            config_path=config_path,
            as_json=as_json,
            allow=_allowed(allow, files, config_path),
        )
        return run(request, _streams())

    _exit_with(body)


@click.command("status")
@click.argument("files", nargs=-1, type=_FILE)
@click.option(
    "--refresh/--no-refresh",
    default=True,
    show_default=True,
    help="Ask kie.ai (recordInfo) about unfinished tasks.",
)
@json_option()
def status_command(files: tuple[Path, ...], refresh: bool, as_json: bool) -> None:
    """What the ledger knows (beside FILES, or in ./.shotc), refreshed from kie.ai."""

    def body() -> int:
        from shotc.run.status import status

        return status(files, as_json=as_json, refresh=refresh, streams=_streams())

    _exit_with(body)


@click.command("credits")
@json_option()
def credits_command(as_json: bool) -> None:
    """The account's credit balance."""

    def body() -> int:
        from shotc.run.status import credits_command as balance

        return balance(as_json=as_json, streams=_streams())

    _exit_with(body)
