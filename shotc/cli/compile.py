"""Commands of the compiler: `check`, `build` and `explain` (thin; the work is in
`shotc.language.compiler`). These must not import httpx or the run machinery."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from shotc.language.compiler import CompilerBug, CompileResult, ScriptReadError, compile_paths
from shotc.render import render_diagnostics, render_json_lines, use_colour

EXIT_ERRORS, EXIT_IO = 1, 4

_files = click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))


def _compile(files: tuple[Path, ...], for_build: bool) -> CompileResult:
    try:
        return compile_paths(list(files), for_build=for_build)
    except ScriptReadError as exc:
        click.echo(f"shotc: cannot read {exc.path}: {exc.reason}", err=True)
        sys.exit(EXIT_IO)
    except CompilerBug as exc:
        click.echo(f"shotc: internal error: {exc}", err=True)
        sys.exit(EXIT_ERRORS)


def _report(result: CompileResult) -> None:
    if result.diagnostics:
        colour = use_colour(sys.stderr.isatty())
        sys.stderr.write(render_diagnostics(result.diagnostics, colour))


@click.command("check")
@_files
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="json: one object per diagnostic per line, on stdout.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Check again on every save of FILES or of a file they include (Ctrl-C stops).",
)
def check_command(files: tuple[Path, ...], fmt: str, watch: bool) -> None:
    """Parse and check FILES; print every diagnostic. Exit 1 on errors."""
    if watch:
        _watch(files, fmt)
    result = _compile(files, for_build=False)
    if fmt == "json":
        sys.stdout.write(render_json_lines(result.diagnostics))
    else:
        _report(result)
    sys.exit(0 if result.ok else EXIT_ERRORS)


def _watch(files: tuple[Path, ...], fmt: str) -> None:
    from shotc.cli.watch import watch

    def once() -> None:
        try:
            result = compile_paths(list(files), for_build=False)
        except ScriptReadError as exc:
            click.echo(f"shotc: cannot read {exc.path}: {exc.reason}", err=True)
            return
        if fmt == "json":
            sys.stdout.write(render_json_lines(result.diagnostics))
            sys.stdout.flush()
        else:
            _report(result)
            if not result.diagnostics:
                click.echo("no problems", err=True)

    try:
        watch(files, once)
    except KeyboardInterrupt:
        sys.exit(130)


@click.command("build")
@_files
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write DIR/<scene-id>.json instead of printing.",
)
def build_command(files: tuple[Path, ...], out_dir: Path | None) -> None:
    """Compile FILES to kie.ai createTask requests.

    One scene prints its request as JSON; several print a JSON array in scene order. Warnings
    do not stop a build; errors do (exit 1, nothing on stdout).
    """
    result = _compile(files, for_build=True)
    _report(result)
    if not result.ok:
        sys.exit(EXIT_ERRORS)
    requests = [scene.request for scene in result.scenes]
    if out_dir is None:
        payload = requests[0] if len(requests) == 1 else requests
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for scene in result.scenes:
            target = out_dir / f"{scene.scene_id}.json"
            target.write_text(
                json.dumps(scene.request, indent=2, ensure_ascii=False) + "\n", "utf-8"
            )
            click.echo(str(target), err=True)
    except OSError as exc:
        click.echo(f"shotc: cannot write to {out_dir}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_IO)


@click.command("explain")
@click.argument("code")
def explain_command(code: str) -> None:
    """Explain a diagnostic CODE (for example E201): what, why, an example, the fix."""
    from shotc.codes import CODES, explain_page

    page = explain_page(code)
    if page is None:
        known = ", ".join(CODES)
        raise click.BadParameter(f"unknown code {code!r}; known codes: {known}", param_hint="CODE")
    sys.stdout.write(page if page.endswith("\n") else page + "\n")
