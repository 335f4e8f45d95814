"""Commands of the compiler: `check`, `build` and `explain` (thin; the work is in
`shotc.language.compiler`). These must not import httpx or the run machinery."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shotc.cli.options import fail, failure, files_argument, format_option
from shotc.exits import ExitCode
from shotc.language.compiler import CompilerBug, CompileResult, ScriptReadError, compile_paths
from shotc.render import render_diagnostics, render_json_lines
from shotc.request.jsontext import dumps_indented
from shotc.terminal import use_colour

allow_option = click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="CODE",
    help="Leave out this warning (repeatable; also `allow = [...]` in shotc.toml).",
)


def allowed(codes: tuple[str, ...], files: tuple[Path, ...]) -> frozenset[str]:
    """The warnings to leave out; a code that cannot be allowed is a usage error (exit 2)."""
    from shotc.allow import AllowError, allowed_codes

    try:
        return allowed_codes(codes, files)
    except AllowError as exc:
        raise click.UsageError(str(exc)) from None


def _compile(files: tuple[Path, ...], for_build: bool, allow: tuple[str, ...]) -> CompileResult:
    try:
        return compile_paths(list(files), for_build=for_build, allow=allowed(allow, files))
    except (ScriptReadError, CompilerBug) as exc:
        fail(exc)


def _report(result: CompileResult) -> None:
    if result.diagnostics:
        colour = use_colour(sys.stderr)
        sys.stderr.write(render_diagnostics(result.diagnostics, colour))


@click.command("check")
@files_argument()
@format_option("json: one object per diagnostic per line, on stdout.")
@click.option(
    "--watch",
    is_flag=True,
    help="Check again on every save of FILES or of a file they include (Ctrl-C stops).",
)
@allow_option
def check_command(files: tuple[Path, ...], fmt: str, watch: bool, allow: tuple[str, ...]) -> None:
    """Parse and check FILES; print every diagnostic. Exit 1 on errors."""
    if watch:
        _watch(files, fmt, allowed(allow, files))
    result = _compile(files, for_build=False, allow=allow)
    if fmt == "json":
        sys.stdout.write(render_json_lines(result.diagnostics))
    else:
        _report(result)
    sys.exit(ExitCode.OK if result.ok else ExitCode.ERRORS)


def _watch(files: tuple[Path, ...], fmt: str, allow: frozenset[str]) -> None:
    from shotc.cli.watch import watch

    def once() -> None:
        try:
            result = compile_paths(list(files), for_build=False, allow=allow)
        except ScriptReadError as exc:
            failure(exc)
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
        sys.exit(ExitCode.INTERRUPTED)


@click.command("build")
@files_argument()
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write DIR/<scene-id>.json instead of printing.",
)
@allow_option
def build_command(files: tuple[Path, ...], out_dir: Path | None, allow: tuple[str, ...]) -> None:
    """Compile FILES to kie.ai createTask requests.

    One scene prints its request as JSON; several print a JSON array in scene order. Warnings
    do not stop a build; errors do (exit 1, nothing on stdout).
    """
    result = _compile(files, for_build=True, allow=allow)
    _report(result)
    if not result.ok:
        sys.exit(ExitCode.ERRORS)
    requests = [scene.request for scene in result.scenes]
    if out_dir is None:
        payload = requests[0] if len(requests) == 1 else requests
        sys.stdout.write(dumps_indented(payload) + "\n")
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for scene in result.scenes:
            target = out_dir / f"{scene.scene_id}.json"
            target.write_text(dumps_indented(scene.request) + "\n", "utf-8")
            click.echo(str(target), err=True)
    except OSError as exc:
        fail(exc, out_dir, writing=True)


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
