"""The language features, as plain functions from an `Analysis` (and a position) to LSP types:
diagnostics, completion, hover, go to definition, the outline, folding ranges, formatting and
quick fixes. No I/O except reading an included file to point into it."""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from lsprotocol import types as lsp

from shotc.codes import CODES, explain_page
from shotc.diagnostics import Diagnostic, Span
from shotc.language.lexer import LineKind, classify
from shotc.language.settings import KEYS
from shotc.lsp.analysis import Analysis, KnownElement
from shotc.lsp.positions import Position, PositionMap

DIRECTIVES: tuple[tuple[str, str, str], ...] = (
    # (label, text inserted, what it does)
    ("SCENE", "SCENE ", "start a scene: one createTask request"),
    ("SHOT", "SHOT 5s", "start a shot with its duration in seconds"),
    ("ELEMENT", "ELEMENT @", "declare an element: `ELEMENT @name: description`, then references"),
    ("INCLUDE", "INCLUDE ", "read settings and elements from another .shot file"),
    ("FIRST FRAME", "FIRST FRAME ", "the scene's first frame: an image path or URL"),
    ("LAST FRAME", "LAST FRAME ", "the scene's last frame: an image path or URL"),
)
SETTING_HELP: dict[str, str] = {
    "title": "The film's title (title page). Scene ids and the render folder do not depend on it.",
    "model": "The kie.ai model; only `kling-3.0/video` is supported.",
    "mode": "Quality: `std` (cheaper, drafts), `pro` (default) or `4K`. Priced per second.",
    "aspect": "Aspect ratio `16:9`, `9:16` or `1:1`; needed when a scene has no first frame.",
    "sound": "Generate sound: `on` or `off`. Default: off for one shot, on for several.",
    "callback": "An https:// URL kie.ai calls when a task ends (not part of the scene key).",
    "takes": "How many takes of each scene `run` asks for (1 to 8).",
    "voice": "An element's voice, sent with its first dialogue line in each prompt.",
}
SETTING_VALUES: dict[str, tuple[str, ...]] = {
    "model": ("kling-3.0/video",),
    "mode": ("std", "pro", "4K"),
    "aspect": ("16:9", "9:16", "1:1"),
    "sound": ("on", "off"),
}
_AFTER = re.compile(r"^\s*FIRST\s+FRAME\s+(?i:after)\s+(.*)$")
_CUE_BEFORE = re.compile(r"(?<!@)@([A-Za-z0-9_-]*)$")
_CUE_AT = re.compile(r"@[A-Za-z0-9_-]+")
_KEY_BEFORE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)$")
_VALUE_BEFORE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s*(\S*)$")
_DIRECTIVE_BEFORE = re.compile(r"^\s*([A-Z]*(?: [A-Z]*)?)$")
_INCLUDE_LINE = re.compile(r"^\s*INCLUDE\s+(\S.*?)\s*$")


@functools.cache
def explain_uri(code: str) -> str | None:
    """A file:// link to the code's explain page, the same text as `shotc explain CODE`."""
    if code not in CODES:
        return None
    page = resources.files("shotc").joinpath("explain", f"{code}.md")
    return Path(str(page)).resolve().as_uri()


def to_range(positions: PositionMap, span: Span) -> lsp.Range:
    start = positions.lsp_of(span.line, span.column)
    end = positions.lsp_of(span.end_line, span.end_column)
    if (end.line, end.character) < (start.line, start.character):
        end = start
    return lsp.Range(_pos(start), _pos(end))


def _pos(p: Position) -> lsp.Position:
    return lsp.Position(line=p.line, character=p.character)


def diagnostics(analysis: Analysis) -> list[lsp.Diagnostic]:
    """The document's diagnostics in LSP's terms. One unchanged since the version before, on
    lines with the same text, is the same object again: with no lone CR a range depends on
    its lines' text alone, and the server's converter serialises a known object once."""
    earlier = analysis.lsp_diagnostics
    made: dict[tuple[Diagnostic, str, str, str], lsp.Diagnostic] = {}
    lines = analysis.lines
    reusable = analysis.positions.same_lines
    encoding = analysis.positions.encoding
    out = []
    for diag in analysis.diagnostics:
        span = diag.span
        if reusable and 0 < span.line <= len(lines) and 0 < span.end_line <= len(lines):
            key = (diag, lines[span.line - 1], lines[span.end_line - 1], encoding)
            found = earlier.get(key) or _lsp_diagnostic(analysis.positions, diag)
            made[key] = found
        else:
            found = _lsp_diagnostic(analysis.positions, diag)
        out.append(found)
    analysis.lsp_diagnostics = made
    return out


def _lsp_diagnostic(positions: PositionMap, diag: Diagnostic) -> lsp.Diagnostic:
    href = explain_uri(diag.code)
    message = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    return lsp.Diagnostic(
        range=to_range(positions, diag.span),
        message=message,
        severity=(
            lsp.DiagnosticSeverity.Error if diag.is_error else lsp.DiagnosticSeverity.Warning
        ),
        code=diag.code,
        code_description=lsp.CodeDescription(href=href) if href else None,
        source="shotc",
        data={"help": diag.help} if diag.help else None,
    )


# -- where the cursor is -------------------------------------------------------------------


def _line_before(analysis: Analysis, position: lsp.Position) -> tuple[int, str, int]:
    """(offset, the compiler line's text before the cursor, 1-based line number)."""
    offset = analysis.positions.offset_at(Position(position.line, position.character))
    line, column = analysis.positions.compiler_position(offset)
    start = offset - (column - 1)
    return offset, analysis.text[start:offset].rstrip("\r"), line


def _in_note(text: str, offset: int) -> bool:
    return text.rfind("[[", 0, offset) > text.rfind("]]", 0, offset)


def _region(analysis: Analysis, line: int) -> str:
    """ "settings" on the title page or a scene's preamble, else "prose" (after a SHOT)."""
    region = "settings"
    for number, raw in enumerate(analysis.lines[: line - 1], start=1):
        classified = classify(raw, number)
        if classified is None:
            continue
        if classified.kind == LineKind.SCENE:
            region = "settings"
        elif classified.kind == LineKind.SHOT:
            region = "prose"
    return region


# -- completion ----------------------------------------------------------------------------


def completion(analysis: Analysis, position: lsp.Position) -> list[lsp.CompletionItem]:
    offset, before, line = _line_before(analysis, position)
    if before.lstrip().startswith("#") or _in_note(analysis.text, offset):
        return []
    here = lsp.Position(line=position.line, character=position.character)

    def edit(typed: str, text: str) -> lsp.TextEdit:
        start = analysis.positions.lsp_position(offset - len(typed))
        return lsp.TextEdit(lsp.Range(_pos(start), here), text)

    after = _AFTER.match(before)
    if after:
        typed = after.group(1)
        return [
            lsp.CompletionItem(
                label=info.scene.title or info.scene_id,
                kind=lsp.CompletionItemKind.Reference,
                detail=info.scene_id,
                text_edit=edit(typed, info.scene.title or info.scene_id),
            )
            for info in analysis.scenes
            if not info.scene.implicit
        ]
    cue = _CUE_BEFORE.search(before)
    if cue:
        typed = cue.group(0)
        return [
            lsp.CompletionItem(
                label=f"@{known.name}",
                kind=lsp.CompletionItemKind.Variable,
                detail=known.element.description or "",
                documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, _element_doc(known)),
                text_edit=edit(typed, f"@{known.name}"),
            )
            for known in analysis.elements.values()
        ]
    region = _region(analysis, line)
    value = _VALUE_BEFORE.match(before)
    if value and region == "settings":
        key, typed = value.group(1).lower(), value.group(2)
        return [
            lsp.CompletionItem(
                label=v, kind=lsp.CompletionItemKind.EnumMember, text_edit=edit(typed, v)
            )
            for v in SETTING_VALUES.get(key, ())
        ]
    items: list[lsp.CompletionItem] = []
    directive = _DIRECTIVE_BEFORE.match(before)
    if directive:
        typed = directive.group(1)
        items += [
            lsp.CompletionItem(
                label=label,
                kind=lsp.CompletionItemKind.Keyword,
                detail=what,
                text_edit=edit(typed, insert),
            )
            for label, insert, what in DIRECTIVES
            if label.startswith(typed)
        ]
    key = _KEY_BEFORE.match(before)
    if (key or not before.strip()) and region == "settings":
        typed = key.group(1) if key else ""
        items += [
            lsp.CompletionItem(
                label=name,
                kind=lsp.CompletionItemKind.Property,
                detail=SETTING_HELP.get(name.lower(), ""),
                text_edit=edit(typed, f"{name}: "),
            )
            for name in KEYS
            if name.lower().startswith(typed.lower())
        ]
    return items


def _element_doc(known: KnownElement) -> str:
    element = known.element
    parts = [f"**@{known.name}**: {element.description or '(no description)'}"]
    if known.voice:
        parts.append(f"Voice: {known.voice}")
    refs = [f"- {ref.prefix + ' ' if ref.prefix else ''}{ref.target}" for ref in element.references]
    if refs:
        parts.append("References:\n" + "\n".join(refs))
    parts.append(f"Declared in `{known.path.name}`, line {element.span.line}")
    return "\n\n".join(parts)


# -- hover and definition -----------------------------------------------------------------


def _word_at(analysis: Analysis, position: lsp.Position) -> tuple[str, int, int]:
    """The compiler line holding the cursor, its 1-based number and the cursor's 0-based column."""
    offset = analysis.positions.offset_at(Position(position.line, position.character))
    line, column = analysis.positions.compiler_position(offset)
    lines = analysis.lines
    text = lines[line - 1] if line - 1 < len(lines) else ""
    return text, line, column - 1


def _cue_at(text: str, column: int) -> str | None:
    for match in _CUE_AT.finditer(text):
        if match.start() <= column <= match.end():
            if match.start() > 0 and text[match.start() - 1] == "@":
                continue  # `@@name` is an escape, not a cue
            return match.group(0)[1:]
    return None


def hover(analysis: Analysis, position: lsp.Position) -> lsp.Hover | None:
    text, line, column = _word_at(analysis, position)
    parts: list[str] = []
    name = _cue_at(text, column)
    if name is not None and name in analysis.elements:
        parts.append(_element_doc(analysis.elements[name]))
    classified = classify(text, line)
    if classified is not None and classified.kind == LineKind.SETTING and column < classified.arg:
        key = text[classified.start : classified.arg].rstrip(": \t").lower()
        if key in SETTING_HELP:
            parts.append(f"**{key.title()}**: {SETTING_HELP[key]}")
    for diag in _diagnostics_at(analysis, line, column + 1):
        page = explain_page(diag.code) if diag.code else None
        if page:
            parts.append(page)
    if not parts:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(lsp.MarkupKind.Markdown, "\n\n---\n\n".join(parts)))


def _diagnostics_at(analysis: Analysis, line: int, column: int) -> list[Diagnostic]:
    found = []
    for diag in analysis.diagnostics:
        s = diag.span
        if (s.line, s.column) <= (line, column) <= (s.end_line, s.end_column):
            found.append(diag)
    return found


def definition(analysis: Analysis, position: lsp.Position) -> lsp.Location | None:
    text, line, column = _word_at(analysis, position)
    name = _cue_at(text, column)
    if name is not None and name in analysis.elements:
        known = analysis.elements[name]
        return lsp.Location(
            known.path.as_uri(), _range_in(known.path, analysis, known.element.name_span)
        )
    include = _INCLUDE_LINE.match(text)
    if include:
        for item, target in analysis.includes:
            if item.span.line == line:
                return lsp.Location(
                    target.as_uri(), lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
                )
    after = _AFTER.match(text)
    if after:
        info = analysis.scene_named(after.group(1))
        if info is not None:
            return lsp.Location(
                analysis.path.as_uri(), to_range(analysis.positions, info.scene.span)
            )
    return None


def _range_in(path: Path, analysis: Analysis, span: Span) -> lsp.Range:
    if path == analysis.path:
        return to_range(analysis.positions, span)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    return to_range(PositionMap(text.removeprefix("\ufeff"), analysis.positions.encoding), span)
