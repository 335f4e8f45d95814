"""Commands of the writer tooling: `fmt`, `decompile` and `validate` (thin; the work is in
`shotc.tools.formatter`, `shotc.tools.decompiler` and `shotc.request.rules`).
Offline: these must not
import httpx or the run machinery.

Exit codes (docs/cli.md): 0 ok (warnings allowed), 1 errors (or `fmt --check` found a file to
reformat), 2 usage, 4 local I/O. A run goes through every file before exiting with the worst.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from shotc.language.compiler import CompilerBug, CompileResult, ScriptReadError, compile_paths
from shotc.language.source import SourceError, read_text
from shotc.render import render_diagnostics, use_colour
from shotc.tools.decompiler import Entry, Problem, decompile, entries_of
from shotc.tools.formatter import format_text

EXIT_ERRORS, EXIT_IO = 1, 4
STDIN = "-"
_STDIN_NAME = "<stdin>"

_files = click.argument(
    "files", nargs=-1, required=True, type=click.Path(allow_dash=True, path_type=Path)
)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _read(path: Path) -> str:
    """A script's text (BOM removed); `-` is stdin. SourceError when it cannot be read."""
    if str(path) != STDIN:
        return read_text(path)
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return text[1:] if text.startswith("\ufeff") else text


def compile_source(path: Path, text: str) -> CompileResult:
    """Check `text` as the script at `path` (`-`: stdin, relative to the working directory),
    whether or not the file holds that text: its INCLUDEs and local media are relative to it."""
    shown = Path(_STDIN_NAME) if str(path) == STDIN else path
    return compile_paths([shown], for_build=False, sources={shown: text})


def _requests(result: CompileResult) -> list[tuple[str, object]]:
    return [(scene.scene_id, scene.request) for scene in result.scenes]


# -- fmt -----------------------------------------------------------------------------------


@click.command("fmt", short_help="Rewrite scripts in canonical form.")
@_files
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
    """
    status = 0
    for path in files:
        status = max(status, _fmt_one(path, check))
    sys.exit(status)


def _fmt_one(path: Path, check: bool) -> int:
    to_stdout = str(path) == STDIN
    try:
        text = _read(path)
        result = compile_source(path, text)
    except (SourceError, ScriptReadError) as exc:
        reason = exc.reason if isinstance(exc, ScriptReadError) else str(exc)
        _say(f"shotc: cannot read {path}: {reason}")
        return EXIT_IO
    except CompilerBug as exc:
        _say(f"shotc: internal error: {exc}")
        return EXIT_ERRORS
    if not result.ok:
        sys.stderr.write(render_diagnostics(result.diagnostics, use_colour(sys.stderr.isatty())))
        _say(f"shotc: {path} has errors; left unformatted")
        if to_stdout and not check:
            sys.stdout.write(text)  # an editor filter must get its buffer back unchanged
        return EXIT_ERRORS
    formatted = format_text(text)
    if formatted != text and _requests(compile_source(path, formatted)) != _requests(result):
        _say(f"shotc: internal error: formatting {path} would change its requests; left as is")
        if to_stdout and not check:
            sys.stdout.write(text)
        return EXIT_ERRORS
    if check:
        if formatted == text:
            return 0
        name = _STDIN_NAME if to_stdout else str(path)
        diff = difflib.unified_diff(
            text.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            fromfile=name,
            tofile=f"{name} (formatted)",
        )
        sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
        _say(f"would reformat {name}")
        return EXIT_ERRORS
    if to_stdout:
        sys.stdout.write(formatted)
        return 0
    if formatted == text:
        return 0
    try:
        _write_atomically(path, formatted)
    except OSError as exc:
        _say(f"shotc: cannot write {path}: {exc.strerror or exc}")
        return EXIT_IO
    _say(f"reformatted {path}")
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: an interrupted fmt never truncates."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, os.stat(path).st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- requests in, for decompile and validate ------------------------------------------------


def _load(path: Path) -> tuple[list[Entry], list[Problem]]:
    """The requests in a JSON file. OSError/SourceError when it cannot be read."""
    file = _STDIN_NAME if str(path) == STDIN else str(path)
    stem = "stdin" if str(path) == STDIN else path.stem
    text = _read(path)
    try:
        document = json.loads(text)
    except ValueError as exc:
        return [], [Problem(file, "$", f"not JSON: {exc}")]
    return entries_of(document, stem, file)


def _report(problems: list[Problem], as_json: bool) -> None:
    if as_json:
        for p in problems:
            sys.stdout.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n")
        return
    colour = use_colour(sys.stderr.isatty())
    paint = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m"}
    for p in problems:
        head = f"{p.severity}[{p.code}]" if p.code else p.severity
        if colour:
            head = f"{paint[p.severity]}{head}\x1b[0m"
        sys.stderr.write(f"{head}: {p.message}\n  --> {p.file}: {p.path}\n")


def _summary(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    parts = [
        f"{n} {word}{'s' * (n != 1)}" for n, word in ((errors, "error"), (warnings, "warning"))
    ]
    return ", ".join(part for part, n in zip(parts, (errors, warnings), strict=True) if n)


# -- decompile -----------------------------------------------------------------------------


@click.command("decompile", short_help="Write .shot source for createTask requests.")
@_files
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
    problems: list[Problem] = []
    for path in files:
        try:
            found, bad = _load(path)
        except (OSError, SourceError) as exc:
            _say(f"shotc: cannot read {path}: {_reason(exc)}")
            sys.exit(EXIT_IO)
        entries += found
        problems += bad
    result = decompile(entries) if not problems else None
    if result is not None:
        problems = result.problems
    if problems or result is None or result.text is None:
        _report(problems, as_json=False)
        _say(f"shotc: cannot decompile: {_summary(problems)}")
        sys.exit(EXIT_ERRORS)
    _report(result.notes, as_json=False)
    if out_file is None:
        sys.stdout.write(result.text)
        return
    try:
        out_file.write_text(result.text, "utf-8")
    except OSError as exc:
        _say(f"shotc: cannot write {out_file}: {exc.strerror or exc}")
        sys.exit(EXIT_IO)
    _say(str(out_file))


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


# -- validate ------------------------------------------------------------------------------


@click.command("validate", short_help="Check hand-written createTask request JSON.")
@_files
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="json: one object per problem per line (file, path, code, severity, message), on stdout.",
)
def validate_command(files: tuple[Path, ...], fmt: str) -> None:
    """Check hand-written createTask requests in FILES against the request schema and the Kling
    rules. Each problem names its JSON path (`input.multi_prompt[2].duration`) and, where the
    compiler has the same rule, its code. A file may hold a request, an array of them, or a
    recordInfo answer. Exit 1 when there is an error; warnings alone exit 0.
    """
    from shotc.request.rules import validate_all

    status = 0
    found: list[Problem] = []
    for path in files:
        try:
            entries, bad = _load(path)
        except (OSError, SourceError) as exc:
            _say(f"shotc: cannot read {path}: {_reason(exc)}")
            status = EXIT_IO
            continue
        mine = list(bad)
        for entry in entries:
            mine += [
                Problem(entry.file, entry.locate(v.path), v.message, v.code, v.severity)
                for v in validate_all(entry.request)
            ]
        found += mine
        _report(mine, as_json=fmt == "json")
        if fmt == "human" and not any(p.severity == "error" for p in mine):
            count = f"{len(entries)} request{'s' * (len(entries) != 1)}"
            _say(f"{path}: valid ({count})")
    if fmt == "human" and found:
        _say(_summary(found))
    if any(p.severity == "error" for p in found):
        status = max(status, EXIT_ERRORS)
    sys.exit(status)
