"""CLI: the film commands `cut`, `review` and `prune` (click layer only).

Options are parsed here and handed to `shotc.film.commands`, imported inside each command:
listing commands (`shotc --help`), `check` and `build` never load PyAV or OpenTimelineIO.
A Ctrl-C or SIGTERM while the modules load exits 130 or 143, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from shotc.cli.options import json_option
from shotc.run import signals

_FILE = click.Path(path_type=Path, dir_okay=False)


def _exit_with(body: Callable[[], int]) -> NoReturn:
    signals.install()
    try:
        code = body()
    except KeyboardInterrupt as exc:  # while importing, before the body's own handling
        sys.stderr.write("interrupted\n")
        code = signals.exit_code(exc)
    sys.exit(code)


@click.command("cut")
@click.argument("file", type=_FILE)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILM.mp4",
    help="Where the film goes (default <script-stem>.mp4 beside the script).",
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="Put a black slate (title, seconds) where a scene has no clip, instead of stopping.",
)
@click.option(
    "--drafts", is_flag=True, help="Let a draft (another mode) stand in for a missing take."
)
@click.option(
    "--timeline",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Also write the cut as a timeline: .otio, .xml (Final Cut 7) or .edl (CMX 3600); "
    "without -o, only the timeline.",
)
@json_option("Print the summary as JSON.")
def cut_command(
    file: Path,
    output: Path | None,
    allow_missing: bool,
    drafts: bool,
    timeline: Path | None,
    as_json: bool,
) -> None:
    """Join the cut (each scene's picked or first take, in script order) into one MP4."""

    def body() -> int:
        from shotc.film.commands import CutRequest, cut

        request = CutRequest(file, output, allow_missing, drafts, timeline, as_json)
        return cut(request, sys.stdout, sys.stderr)

    _exit_with(body)


@click.command("review")
@click.argument("file", type=_FILE)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@click.option(
    "--static",
    "static_dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Write the page (without buttons) to DIR/index.html instead of serving it.",
)
def review_command(file: Path, port: int, open_browser: bool, static_dir: Path | None) -> None:
    """Serve the review page on loopback: every scene, its takes, "use in cut"."""

    def body() -> int:
        from shotc.film.commands import review

        return review(file, port, open_browser, static_dir, sys.stdout, sys.stderr)

    _exit_with(body)


@click.command("prune")
@click.argument("file", type=_FILE)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("--older", is_flag=True, help="Also delete the clips of older versions.")
@json_option()
def prune_command(file: Path, dry_run: bool, older: bool, as_json: bool) -> None:
    """Delete clips that are neither in the cut nor a take of a current version."""

    def body() -> int:
        from shotc.film.commands import prune

        return prune(file, dry_run, older, as_json, sys.stdout, sys.stderr)

    _exit_with(body)
