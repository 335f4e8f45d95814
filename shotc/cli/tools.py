"""Commands of the writer tooling: `fmt`, `decompile` and `validate` (thin; the work is in
`shotc.tools.formatter`, `shotc.tools.decompiler` and `shotc.request.rules`).
Offline: these must not
import httpx or the run machinery.

Exit codes (docs/cli.md): 0 ok (warnings allowed), 1 errors (or `fmt --check` found a file to
reformat), 2 usage, 4 local I/O. A run goes through every file before exiting with the worst.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from shotc.cli.options import fail, failure, files_argument, format_option, say
from shotc.diagnostics import Diagnostic, Problems
from shotc.exits import ExitCode
from shotc.language.compiler import CompilerBug, CompileResult, ScriptReadError, compile_paths
from shotc.language.source import SourceError, decode, read_stream, read_text
from shotc.render import (
    render_diagnostics,
    render_json_lines,
    render_request_problems,
    summary,
)
from shotc.terminal import use_colour
from shotc.tools.decompiler import Entry, decompile, entries_of
from shotc.tools.formatter import format_text

STDIN = "-"
_STDIN_NAME = "<stdin>"


def _read(path: Path) -> str:
    """A script's text (BOM removed); `-` is stdin. SourceError when it cannot be read: not a
    regular file, over the size limit (stdin too: `fmt - < /dev/zero`), or not UTF-8."""
    if str(path) != STDIN:
        return read_text(path)
    return decode(read_stream(sys.stdin.buffer))


def compile_source(path: Path, text: str) -> CompileResult:
    """Check `text` as the script at `path` (`-`: stdin, relative to the working directory),
    whether or not the file holds that text: its INCLUDEs and local media are relative to it."""
    shown = Path(_STDIN_NAME) if str(path) == STDIN else path
    return compile_paths([shown], for_build=False, sources={shown: text})


def _requests(result: CompileResult) -> list[tuple[str, object]]:
    return [(scene.scene_id, scene.request) for scene in result.scenes]


# -- fmt -----------------------------------------------------------------------------------


@click.command("fmt", short_help="Rewrite scripts in canonical form.")
@files_argument(allow_dash=True)
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; print a unified diff for each file that is not formatted and exit 1.",
)
def fmt_command(files: tuple[Path, ...], check: bool) -> None:
    """Rewrite FILES in canonical form; `-` reads stdin and writes stdout.

    Directive keywords upper case, settings `Key: value`, `Ns` durations, references indented
    two spaces, one blank line between blocks, no trailing white space. Comments, notes and
    prose are kept byte for byte. A file with errors is left untouched and its errors shown.
    A symlink's target is rewritten (the link stays); a file with several hard links is
    written in place so that all its names keep pointing at it.
    """
    status: int = ExitCode.OK
    for path in files:
        status = max(status, _fmt_one(path, check))
    sys.exit(status)


def _fmt_one(path: Path, check: bool) -> int:
    to_stdout = str(path) == STDIN
    try:
        text = _read(path)
        result = compile_source(path, text)
    except (SourceError, ScriptReadError, CompilerBug) as exc:
        return failure(exc, path)
    if not result.ok:
        sys.stderr.write(render_diagnostics(result.diagnostics, use_colour(sys.stderr)))
        say(f"shotc: {path} has errors; left unformatted")
        if to_stdout and not check:
            sys.stdout.write(text)  # an editor filter must get its buffer back unchanged
        return ExitCode.ERRORS
    formatted = format_text(text)
    if formatted != text and _requests(compile_source(path, formatted)) != _requests(result):
        say(f"shotc: internal error: formatting {path} would change its requests; left as is")
        if to_stdout and not check:
            sys.stdout.write(text)
        return ExitCode.ERRORS
    if check:
        if formatted == text:
            return ExitCode.OK
        name = _STDIN_NAME if to_stdout else str(path)
        diff = difflib.unified_diff(
            text.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            fromfile=name,
            tofile=f"{name} (formatted)",
        )
        sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
        say(f"would reformat {name}")
        return ExitCode.ERRORS
    if to_stdout:
        sys.stdout.write(formatted)
        return ExitCode.OK
    if formatted == text:
        return ExitCode.OK
    try:
        _write_in_place(path, formatted)
    except OSError as exc:
        return failure(exc, path, writing=True)
    say(f"reformatted {path}")
    return ExitCode.OK


def _write_in_place(path: Path, text: str) -> None:
    """Write `text` as the new content of the file `path` names (docs/cli.md, `fmt`).

    A symlink is followed: its target is written and the link stays a link. A file with one
    name is written atomically: a temporary file beside the target, flushed to disk, renamed
    over it, so an interrupted fmt leaves the old text or the new, never a mix. A file with
    several hard links cannot be: a rename gives one name a new file and leaves the others
    the old text. It is written through instead (one write, then truncated to its new length,
    then flushed), as is a file in a directory where no temporary file can be made.
    """
    target = Path(os.path.realpath(path))
    info = os.stat(target)
    data = text.encode("utf-8")
    if info.st_nlink > 1:
        _write_through(target, data)
        return
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except PermissionError:
        _write_through(target, data)
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, info.st_mode & 0o7777)
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):  # keep the owner where we may (root)
                os.chown(temporary, info.st_uid, info.st_gid)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_through(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY)  # no O_TRUNC: the file is empty for the shortest time
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


# -- requests in, for decompile and validate ------------------------------------------------


def _load(path: Path) -> tuple[list[Entry], list[Diagnostic]]:
    """The requests in a JSON file. OSError/SourceError when it cannot be read."""
    file = _STDIN_NAME if str(path) == STDIN else str(path)
    stem = "stdin" if str(path) == STDIN else path.stem
    text = _read(path)
    try:
        document = json.loads(text)
    except ValueError as exc:
        found = Problems(file)
        found.error(None, f"not JSON: {exc}", "$")
        return [], found
    return entries_of(document, stem, file)


def _report(problems: list[Diagnostic], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(render_json_lines(problems, ensure_ascii=False))
        return
    sys.stderr.write(render_request_problems(problems, use_colour(sys.stderr)))


# -- decompile -----------------------------------------------------------------------------


@click.command("decompile", short_help="Write .shot source for createTask requests.")
@files_argument(allow_dash=True)
@click.option(
    "-o",
    "--output",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the script to FILE instead of printing it.",
)
def decompile_command(files: tuple[Path, ...], out_file: Path | None) -> None:
    """Write the .shot source for the createTask requests in FILES (`-` is stdin).

    A file holds a request object, an array of them, or a recordInfo answer (whose `param`
    is the request). All requests go into one script, a SCENE each, titled after their file.
    Building the script gives the same requests back; a request that no script can express is
    refused, naming the field. Notes tell where the build states a kie.ai default the request
    left out.
    """
    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    for path in files:
        try:
            found, bad = _load(path)
        except (OSError, SourceError) as exc:
            fail(exc, path)
        entries += found
        problems += bad
    result = decompile(entries) if not problems else None
    if result is not None:
        problems = result.problems
    if problems or result is None or result.text is None:
        _report(problems, as_json=False)
        say(f"shotc: cannot decompile: {summary(problems)}")
        sys.exit(ExitCode.ERRORS)
    _report(result.notes, as_json=False)
    if out_file is None:
        sys.stdout.write(result.text)
        return
    try:
        out_file.write_text(result.text, "utf-8")
    except OSError as exc:
        fail(exc, out_file, writing=True)
    say(str(out_file))


# -- validate ------------------------------------------------------------------------------


@click.command("validate", short_help="Check hand-written createTask request JSON.")
@files_argument(allow_dash=True)
@format_option(
    "json: one object per problem per line (file, path, code, severity, message), on stdout."
)
def validate_command(files: tuple[Path, ...], fmt: str) -> None:
    """Check hand-written createTask requests in FILES against the request schema and the Kling
    rules. Each problem names its JSON path (`input.multi_prompt[2].duration`) and, where the
    compiler has the same rule, its code. A file may hold a request, an array of them, or a
    recordInfo answer. Exit 1 when there is an error; warnings alone exit 0.
    """
    from shotc.request.rules import validate_all

    status = ExitCode.OK
    found: list[Diagnostic] = []
    for path in files:
        try:
            entries, bad = _load(path)
        except (OSError, SourceError) as exc:
            status = failure(exc, path)
            continue
        mine = list(bad)
        for entry in entries:
            mine += [entry.place(v) for v in validate_all(entry.request)]
        found += mine
        _report(mine, as_json=fmt == "json")
        if fmt == "human" and not any(p.severity == "error" for p in mine):
            count = f"{len(entries)} request{'s' * (len(entries) != 1)}"
            say(f"{path}: valid ({count})")
    if fmt == "human" and found:
        say(summary(found))
    if any(p.severity == "error" for p in found):
        status = max(status, ExitCode.ERRORS)
    sys.exit(status)
