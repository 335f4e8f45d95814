"""The CLI's shared pieces: click options as decorators (as sqlite-utils does), so a flag that
several commands take is spelled once, and the one error-to-exit handler every command uses to
turn a failure into a one-line message on stderr and its exit code (`shotc.exits.ExitCode`).

Importing this module loads click only; the stage modules named in `failure` are imported
when there is a failure to classify.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from shotc.exits import ExitCode

if TYPE_CHECKING:
    from shotc.run.selection import Budget

F = TypeVar("F", bound=Callable[..., object])
MODES = click.Choice(["std", "pro", "4K"])  # shotc.kling.MODES, spelled for click


def files_argument(*, allow_dash: bool = False, required: bool = True) -> Callable[[F], F]:
    """FILES...: the scripts or request files a command reads (`-` is stdin when allowed)."""
    kind = click.Path(allow_dash=allow_dash, path_type=Path)
    return click.argument("files", nargs=-1, required=required, type=kind)


def format_option(help: str) -> Callable[[F], F]:
    """--format human|json."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["human", "json"]),
        default="human",
        show_default=True,
        help=help,
    )


def json_option(help: str = "Print JSON for machines.") -> Callable[[F], F]:
    """--json, as the online commands take it."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def mode_option() -> Callable[[F], F]:
    return click.option(
        "--mode", type=MODES, help="Override every scene's mode (std drafts cheaply)."
    )


def _budget(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Budget | None:
    """`--budget`: credits (`1000`) or dollars (`'$5'`, `5usd`, `'5 USD'`); else exit 2."""
    from shotc.run.selection import BudgetError, parse_budget

    if value is None:
        return None
    try:
        return parse_budget(value)
    except BudgetError as exc:
        raise click.BadParameter(str(exc)) from None


def selection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--scene`, `--take`, `--mode`, `--resubmit-unknown`, `--budget`: every option that
    decides what a run sends, declared once for `run` and `plan` (which previews that very
    run) and handed to the command as one `selection: Selection` argument, so the two commands
    cannot take different options or read them differently. (shotc.run is imported here, by
    the commands that take these, not by `check` or `build`, which import this module.)"""
    from shotc.run.ledger_schema import MAX_TAKE
    from shotc.run.selection import Selection

    @functools.wraps(f)
    def command(
        *args: Any,
        scenes: tuple[str, ...],
        take: int | None,
        mode: str | None,
        resubmit_unknown: bool,
        budget: Budget | None,
        **kwargs: Any,
    ) -> Any:
        chosen = Selection(scenes, take, mode, resubmit_unknown, budget)
        return f(*args, selection=chosen, **kwargs)

    options = [
        click.option(
            "--scene",
            "scenes",
            multiple=True,
            metavar="ID|TITLE",
            help="Only this scene, by id or by title as written (repeatable).",
        ),
        click.option(
            "--take",
            type=click.IntRange(min=1, max=MAX_TAKE),
            default=None,
            metavar="K",
            help="Only take K: 2, 3... ask for another take on purpose (paid). Default: takes "
            "1 to each scene's `Takes:`.",
        ),
        mode_option(),
        click.option(
            "--resubmit-unknown",
            is_flag=True,
            help="Send again the scenes whose createTask got no answer (may pay twice).",
        ),
        click.option(
            "--budget",
            callback=_budget,
            metavar="CREDITS|$USD",
            help="Refuse to start when the new scenes would cost more: credits (1000) or "
            "dollars ('$5', 5usd).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def config_option() -> Callable[[F], F]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Settings file (default: shotc.toml beside the first script).",
    )


# -- errors to exit codes -----------------------------------------------------------------


def say(message: str) -> None:
    click.echo(message, err=True)


def failure(exc: BaseException, path: object = None, *, writing: bool = False) -> ExitCode:
    """Say on stderr what `exc` means for the file at `path` and return the exit code: an
    unreadable or undecodable file, or one that cannot be written, is local I/O (4); a
    compiler bug is an error (1). Anything else is not a user's failure: it is raised again."""
    from shotc.language.compiler import CompilerBug, ScriptReadError
    from shotc.language.source import SourceError

    if isinstance(exc, ScriptReadError):
        say(f"shotc: cannot read {exc.path}: {exc.reason}")
        return ExitCode.IO
    if isinstance(exc, CompilerBug):
        say(f"shotc: internal error: {exc}")
        return ExitCode.ERRORS
    if isinstance(exc, SourceError | OSError):
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
        verb = "write" if writing else "read"
        say(f"shotc: cannot {verb} {path}: {reason}")
        return ExitCode.IO
    raise exc


def fail(exc: BaseException, path: object = None, *, writing: bool = False) -> NoReturn:
    """`failure`, then exit with its code."""
    sys.exit(failure(exc, path, writing=writing))
