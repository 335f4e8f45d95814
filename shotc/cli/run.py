"""CLI: the online commands `plan`, `run`, `status` and `credits` (click layer only).

Options are parsed here and handed to `shotc.run.commands`, which is imported inside each
command so that merely listing commands (`shotc --help`) does not load httpx.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from shotc.run.commands import Streams

_FILE = click.Path(path_type=Path, dir_okay=False)
_MODES = click.Choice(["std", "pro", "4K"])


def _finite(value: float | None) -> float | None:
    # FloatRange lets nan and inf through (nan < 0 is false); nan would disable the budget.
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number of credits")
    return value


def _streams() -> Streams:
    from shotc.run.commands import Streams

    return Streams(out=sys.stdout, err=sys.stderr)


@click.command("plan")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--mode", type=_MODES, help="Override every scene's mode (std drafts cheaply).")
@click.option(
    "--take",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which take to plan for.",
)
@click.option("--resubmit-unknown", is_flag=True, help="Count `unknown` scenes as resent.")
@click.option(
    "--config",
    "config_path",
    type=_FILE,
    help="Settings file (default: shotc.toml beside the first script).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def plan_command(
    files: tuple[Path, ...],
    mode: str | None,
    take: int,
    resubmit_unknown: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Per scene: shots, seconds, mode, sound, estimated credits and ledger state; the total
    that `run` would spend."""
    from shotc.run.commands import plan

    sys.exit(
        plan(
            files,
            mode=mode,
            take=take,
            resubmit_unknown=resubmit_unknown,
            config_path=config_path,
            as_json=as_json,
            streams=_streams(),
        )
    )


@click.command("run")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--mode", type=_MODES, help="Override every scene's mode (std drafts cheaply).")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow tasks until their clips are downloaded.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    callback=lambda _ctx, _param, value: _finite(value),
    help="Refuse to start when the new scenes would cost more credits than this.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write clips to DIR/<scene-id>.mp4 (default renders/<script-stem>/ beside the script).",
)
@click.option(
    "--take",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Take number: 2, 3... ask for another take on purpose (paid).",
)
@click.option(
    "--resubmit-unknown",
    is_flag=True,
    help="Send again the scenes whose createTask got no answer (may pay twice).",
)
@click.option(
    "--scene", "scene_ids", multiple=True, metavar="ID", help="Only these scenes (repeatable)."
)
@click.option(
    "--config",
    "config_path",
    type=_FILE,
    help="Settings file (default: shotc.toml beside the first script).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_command(
    files: tuple[Path, ...],
    mode: str | None,
    wait: bool,
    budget: float | None,
    out_dir: Path | None,
    take: int,
    resubmit_unknown: bool,
    scene_ids: tuple[str, ...],
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Upload local media, submit every scene not already done or running, follow the
    tasks and download each clip as soon as it is ready."""
    from shotc.run.commands import RunRequest, run

    request = RunRequest(
        files=files,
        mode=mode,
        wait=wait,
        budget=budget,
        out_dir=out_dir,
        take=take,
        resubmit_unknown=resubmit_unknown,
        scenes=scene_ids,
        config_path=config_path,
        as_json=as_json,
    )
    sys.exit(run(request, _streams()))


@click.command("status")
@click.argument("files", nargs=-1, type=_FILE)
@click.option(
    "--refresh/--no-refresh",
    default=True,
    show_default=True,
    help="Ask kie.ai (recordInfo) about unfinished tasks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def status_command(files: tuple[Path, ...], refresh: bool, as_json: bool) -> None:
    """What the ledger knows (beside FILES, or in ./.shotc), refreshed from kie.ai."""
    from shotc.run.status import status

    sys.exit(status(files, as_json=as_json, refresh=refresh, streams=_streams()))


@click.command("credits")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def credits_command(as_json: bool) -> None:
    """The account's credit balance."""
    from shotc.run.status import credits_command as balance

    sys.exit(balance(as_json=as_json, streams=_streams()))
