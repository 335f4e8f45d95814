"""`shotc import`: bring a script from another format into `.shot` (thin; the work is in
`shotc.tools`). Offline: this must not import httpx or the run machinery.

Exit codes (docs/cli.md): 0 written, 2 usage, 4 local I/O (input unreadable or not UTF-8,
output not writable).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shotc.exits import ExitCode
from shotc.language.source import SourceError, read_text


@click.group("import", short_help="Bring a script from another format into .shot.")
def import_command() -> None:
    """Bring a script written in another format into a .shot skeleton."""


@import_command.command("fountain")
@click.argument("script", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    show_default="stdout",
    help="Write the .shot file here.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT when it exists.")
def fountain_command(script: Path, output: Path, force: bool) -> None:
    """Turn the Fountain screenplay SCRIPT into a .shot skeleton to refine.

    Title page to `Title:`, scene headings to SCENE, each action paragraph to a SHOT with a
    placeholder duration (long scenes split into parts of at most 15 s), dialogue to dialogue
    lines, speaking characters to commented ELEMENT stubs, notes kept, transitions, sections,
    synopses and boneyard as comments. `-` reads stdin or writes stdout.
    """
    from shotc.tools.fountain import parse
    from shotc.tools.fountain_shot import to_shot

    try:
        text = sys.stdin.read() if str(script) == "-" else read_text(script)
    except (SourceError, OSError, UnicodeDecodeError) as exc:
        click.echo(f"shotc: cannot read {script}: {exc}", err=True)
        sys.exit(ExitCode.IO)
    name = "stdin" if str(script) == "-" else script.name
    shot = to_shot(parse(text), name)
    if str(output) == "-":
        sys.stdout.write(shot)
        return
    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; pass --force to overwrite it")
    try:
        output.write_text(shot, "utf-8")
    except OSError as exc:
        click.echo(f"shotc: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(ExitCode.IO)
    click.echo(str(output), err=True)
