"""CLI: `shotc pick SCENE TAKE [FILE]`, the writer's choice of the take the cut uses
(film.md "Commands"; the decisions are in docs/film.md "Picks").

The pick is recorded by `shotc.film.takes.record_pick`, the same code as the review page's
"use in cut". Exit codes (`shotc.exits.ExitCode`): 0 recorded; 1 the script has errors; 2 a
usage error (unknown scene, with a did-you-mean; a take the current version does not have;
no FILE and not exactly one `.shot` file in the current directory); 4 local I/O (the script,
its media, the ledger); 130 after Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from shotc.cli.options import MODES, json_option
from shotc.exits import ExitCode

if TYPE_CHECKING:
    from shotc.film.takes import PickInfo, SceneTakes


def default_script(cwd: Path) -> Path:
    """The one `.shot` file of `cwd`, when FILE is left out; a UsageError that says what to
    do otherwise (never a guess between two scripts)."""
    found = sorted(p for p in cwd.glob("*.shot") if p.is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise click.UsageError("no FILE given and no .shot file in the current directory")
    names = ", ".join(p.name for p in found[:6]) + (", ..." if len(found) > 6 else "")
    raise click.UsageError(f"no FILE given and {len(found)} .shot files here ({names}): name one")


def _was(info: PickInfo | None) -> str:
    if info is None:
        return "no pick before"
    what = f"take {info.take} ({info.mode})"
    return f"replaces a stale pick: {what} of an older version" if info.stale else f"was {what}"


def _said(st: SceneTakes, before: PickInfo | None) -> list[str]:
    assert st.pick is not None
    lines = [
        f"{st.scene_id} ({st.title}): take {st.pick.take} ({st.pick.mode}) is in the cut "
        f"({_was(before)})"
    ]
    chosen = st.find(st.pick.take, st.pick.mode)
    if chosen is not None and not chosen.finished:
        lines.append(
            f"note: take {chosen.take} is {chosen.state}: the cut has this scene once its clip "
            "is on disk (`shotc run`)"
        )
    return lines


def _as_json(st: SceneTakes, before: PickInfo | None) -> dict[str, Any]:
    assert st.pick is not None
    chosen = st.find(st.pick.take, st.pick.mode)
    return {
        "scene_id": st.scene_id,
        "title": st.title,
        "take": st.pick.take,
        "mode": st.pick.mode,
        "version": st.version,
        "state": None if chosen is None else chosen.state,
        "path": None if chosen is None or chosen.path is None else str(chosen.path),
        "previous": None
        if before is None
        else {"take": before.take, "mode": before.mode, "stale": before.stale},
    }


def pick(
    file: Path, scene: str, take: int, mode: str | None, as_json: bool, out: TextIO, err: TextIO
) -> int:
    from shotc.film.commands import compiled_or_code, say
    from shotc.film.project import FilmProject
    from shotc.film.takes import PickError, find_scene
    from shotc.run.errors import RunError
    from shotc.run.report import dumps

    script = compiled_or_code(file, err)
    if isinstance(script, int):
        return script
    try:
        with FilmProject.open(script) as film:
            compiled = [s.compiled for s in script.scenes]
            target = find_scene(compiled, scene)  # the did-you-mean before the ledger's state
            before = next(st for st in film.takes() if st.scene_id == target.scene_id).pick
            film.pick(target.scene_id, take, mode)
            after = next(st for st in film.takes() if st.scene_id == target.scene_id)
    except PickError as exc:
        say(err, f"error: {exc}")
        return exc.exit_code
    except RunError as exc:  # the ledger or a medium cannot be read
        say(err, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        say(err, "interrupted")
        return ExitCode.INTERRUPTED
    if as_json:
        out.write(dumps(_as_json(after, before)) + "\n")
    else:
        for line in _said(after, before):
            say(out, line)
    return ExitCode.OK


@click.command("pick")
@click.argument("scene")
@click.argument("take", type=click.IntRange(min=1))
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--mode",
    type=MODES,
    help="Pick a draft: the take made in this mode (default: the scene's own mode).",
)
@json_option("Print the recorded pick as JSON.")
def pick_command(scene: str, take: int, file: Path | None, mode: str | None, as_json: bool) -> None:
    """The cut uses take TAKE of SCENE (its title or id) in its current version."""
    script = file if file is not None else default_script(Path.cwd())
    sys.exit(pick(script, scene, take, mode, as_json, sys.stdout, sys.stderr))
