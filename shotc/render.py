"""Diagnostics, rendered for people: rustc-style `error[E201]: ...`, `--> file:line:col`, the
source line, carets under the span and `= help:`. Colour only when asked (the caller asks
`shotc.terminal.use_colour`). After SHOWN_PER_CODE diagnostics of one code in one file, the
rest of them are one line, "and N more E201 in film.shot": a script with a million errors
stays readable and its output small. A problem in a JSON request (`validate`, `decompile`)
has no source line to show: it is two lines, `error[E301]: ...` and `--> file: json.path`
(`render_request_problems`). Also the JSON-lines form of `check --format json` and `validate
--format json`, which keeps every one."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from shotc.diagnostics import Diagnostic
from shotc.language.source import SourceError, read_bytes

SHOWN_PER_CODE = 50  # diagnostics of one code in one file shown in full; the rest are counted

_WINDOW = 100  # columns of a long source line shown around the span
_COLOURS = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "note": "\x1b[1;36m",
    "blue": "\x1b[1;34m",
    "bold": "\x1b[1m",
    "reset": "\x1b[0m",
}


def _source_line(path: str, number: int, cache: dict[str, list[str] | None]) -> str | None:
    if path not in cache:
        try:  # the source's own reader: a path swapped for a FIFO or a huge file is refused
            text = read_bytes(Path(path)).decode("utf-8", errors="replace")
            cache[path] = text.removeprefix("\ufeff").split("\n")
        except SourceError:
            cache[path] = None
    lines = cache[path]
    if lines is None or not 1 <= number <= len(lines):
        return None
    return lines[number - 1].rstrip("\r")


def render_one(diag: Diagnostic, colour: bool, cache: dict[str, list[str] | None]) -> str:
    def paint(name: str, text: str) -> str:
        return f"{_COLOURS[name]}{text}{_COLOURS['reset']}" if colour else text

    if diag.path:
        return _request_problem(diag, colour)
    span = diag.span
    gutter = " " * len(str(span.line))
    head = paint(diag.severity, f"{diag.severity}[{diag.code}]") + paint(
        "bold", f": {diag.message}"
    )
    out = [head, f"{gutter}{paint('blue', '-->')} {span.file}:{span.line}:{span.column}"]
    text = _source_line(span.file, span.line, cache)
    if text is not None:
        start = span.column - 1
        end = span.end_column - 1 if span.end_line == span.line else len(text)
        end = max(end, start + 1)
        shift = max(0, start - _WINDOW // 2) if len(text) > _WINDOW else 0
        shown = text[shift : shift + _WINDOW + (end - start)]
        prefix = "…" if shift else ""
        suffix = "…" if shift + len(shown) < len(text) else ""
        # a tab is one column: show it as one space so the carets line up
        shown = prefix + "".join(" " if c == "\t" else c for c in shown) + suffix
        carets = " " * (start - shift + len(prefix)) + "^" * min(end - start, len(shown))
        bar = paint("blue", "|")
        out += [
            f"{gutter} {bar}",
            f"{paint('blue', str(span.line))} {bar} {shown}",
            f"{gutter} {bar} {paint(diag.severity, carets)}",
        ]
    if diag.help:
        out.append(f"{gutter} {paint('blue', '=')} {paint('bold', 'help')}: {diag.help}")
    return "\n".join(out)


def render_diagnostics(diags: Sequence[Diagnostic], colour: bool = False) -> str:
    """Every diagnostic, then a summary line; empty when there are none."""
    if not diags:
        return ""
    cache: dict[str, list[str] | None] = {}
    parts: list[str] = []
    seen: Counter[tuple[str, str | None]] = Counter()
    hidden: Counter[str | None] = Counter()  # codes past the cap in the current file, first first
    for index, diag in enumerate(diags):
        key = (diag.span.file, diag.code)
        seen[key] += 1
        if seen[key] <= SHOWN_PER_CODE:
            parts.append(render_one(diag, colour, cache))
        else:
            hidden[diag.code] += 1
        last_of_file = index + 1 == len(diags) or diags[index + 1].span.file != diag.span.file
        if last_of_file and hidden:
            parts += [f"and {n} more {code} in {diag.span.file}" for code, n in hidden.items()]
            hidden.clear()
    return "\n\n".join(parts) + f"\n\n{summary(diags)}\n"


def summary(diags: Sequence[Diagnostic]) -> str:
    """`2 errors, 1 warning`: the counts that are not zero (notes are not counted)."""
    errors = sum(d.severity == "error" for d in diags)
    warnings = sum(d.severity == "warning" for d in diags)

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'s' * (n != 1)}"

    return ", ".join(
        p
        for p, n in ((count(errors, "error"), errors), (count(warnings, "warning"), warnings))
        if n
    )


def render_request_problems(diags: Sequence[Diagnostic], colour: bool = False) -> str:
    """Problems of JSON requests, two lines each: the severity and code (none when the rule
    has no counterpart in a script) with the message, then the file and the JSON path."""
    return "".join(_request_problem(diag, colour) + "\n" for diag in diags)


def _request_problem(diag: Diagnostic, colour: bool) -> str:
    head = f"{diag.severity}[{diag.code}]" if diag.code else diag.severity
    if colour:
        head = f"{_COLOURS[diag.severity]}{head}{_COLOURS['reset']}"
    return f"{head}: {diag.message}\n  --> {diag.span.file}: {diag.path}"


def render_json_lines(diags: Sequence[Diagnostic], *, ensure_ascii: bool = True) -> str:
    """One JSON object a line (`Diagnostic.to_json`). `check` escapes non-ASCII, `validate`
    writes it as it is (`ensure_ascii=False`): each as it always has."""
    dumps: Callable[..., str] = json.dumps
    return "".join(dumps(d.to_json(), ensure_ascii=ensure_ascii) + "\n" for d in diags)
