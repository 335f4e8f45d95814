"""Stage 3 (AST), shot prose: turns the lines of a shot into its prompt. Joins lines and
paragraphs, removes `[[notes]]` (which may cross lines), finds `@cues`, unescapes `@@`, and
reports the lines that do not belong in prose."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shotc.diagnostics import Diagnostic, Span
from shotc.language.lexer import Line
from shotc.language.syntax import Cue

_CUE = re.compile(r"@(@|[A-Za-z0-9_-]+)?")
_OUT_OF_PLACE = {
    "REFERENCE": "a media reference inside a shot is not part of the prompt",
    "FIRST_FRAME": "`FIRST FRAME` inside a shot: frames go in the scene's preamble",
    "LAST_FRAME": "`LAST FRAME` inside a shot: frames go in the scene's preamble",
    "INCLUDE": "`INCLUDE` inside a shot: includes go in the title page",
}
_WRONG_CASE = (
    (re.compile(r"(?i)(shot)\s+([0-9]+)\s*s?"), "SHOT"),
    (re.compile(r"(?i)(element)\s+@.*"), "ELEMENT"),
    (re.compile(r"(?i)(first\s+frame)\s+\S+"), "FIRST FRAME"),
    (re.compile(r"(?i)(last\s+frame)\s+\S+"), "LAST FRAME"),
    (re.compile(r"(?i)(include)\s+\S+"), "INCLUDE"),
)
_SCENE_WRONG_CASE = re.compile(r"(?i)(scene)(?:\s+.*)?")


def line_span(line: Line, file: str) -> Span:
    return Span(file, line.number, line.start + 1, line.number, line.end + 1)


def wrong_case_directive(body: str, *, scene_too: bool) -> str | None:
    """If `body` has a directive's shape with its keyword in the wrong case, the line as it
    would read as a directive; otherwise None."""
    patterns = _WRONG_CASE + (((_SCENE_WRONG_CASE, "SCENE"),) if scene_too else ())
    for pattern, keyword in patterns:
        match = pattern.fullmatch(body)
        if match is not None and match.group(1) != keyword:
            if keyword == "SHOT":
                return f"SHOT {match.group(2)}s"
            rest = body[match.end(1) :].strip()
            return f"{keyword} {rest}" if rest else keyword
    return None


@dataclass(frozen=True, slots=True)
class ShotProse:
    prompt: str
    cues: tuple[Cue, ...]
    diagnostics: tuple[Diagnostic, ...]


class _Assembler:
    def __init__(self, file: str) -> None:
        self.file = file
        self.paragraphs: list[str] = []
        self.current: list[str] = []  # finished lines of the open paragraph
        self.pieces: list[str] = []  # text of the line being read, notes removed
        self.cues: list[Cue] = []

    def add(self, line: Line, start: int, end: int) -> None:
        text = line.text[start:end]
        if "@" not in text:
            self.pieces.append(text)
            return

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "@":
                return "@"
            if name is not None:
                column = start + match.start() + 1
                span = Span(self.file, line.number, column, line.number, column + 1 + len(name))
                self.cues.append(Cue(name, span))
            return match.group(0)

        self.pieces.append(_CUE.sub(replace, text))

    def end_line(self) -> None:
        if self.pieces:
            self.current.append("".join(self.pieces))
            self.pieces = []

    def end_paragraph(self) -> None:
        self.end_line()
        paragraph = " ".join(" ".join(self.current).split())
        if paragraph:
            self.paragraphs.append(paragraph)
        self.current = []


def shot_prose(lines: Sequence[Line], file: str) -> ShotProse:
    out = _Assembler(file)
    diagnostics: list[Diagnostic] = []
    note: Span | None = None  # where the open `[[` stands
    for line in lines:
        if line.kind == "BLANK":
            if note is None:
                out.end_paragraph()
            continue
        position = line.arg if line.kind == "PROSE" else line.start
        if note is not None:
            close = line.text.find("]]", position, line.end)
            if close < 0:
                continue
            note, position = None, close + 2
        elif line.kind in _OUT_OF_PLACE:
            diagnostics.append(
                Diagnostic(
                    "E105",
                    _OUT_OF_PLACE[line.kind],
                    line_span(line, file),
                    "move it out of the shot, or start the line with `!` to keep it as prose",
                )
            )
            continue
        elif line.kind == "PROSE" and line.arg == line.start:
            fixed = wrong_case_directive(line.text[line.start : line.end], scene_too=False)
            if fixed is not None:
                diagnostics.append(
                    Diagnostic(
                        "W505",
                        "this line looks like a directive in the wrong case; it stays prose",
                        line_span(line, file),
                        f"write `{fixed}` to make it a directive; start the line with `!` to keep "
                        "it as prose",
                    )
                )
        while True:
            opening = line.text.find("[[", position, line.end)
            if opening < 0:
                out.add(line, position, line.end)
                break
            out.add(line, position, opening)
            closing = line.text.find("]]", opening + 2, line.end)
            if closing < 0:
                note = Span(file, line.number, opening + 1, line.number, opening + 3)
                break
            position = closing + 2
        out.end_line()
    if note is not None:
        diagnostics.append(
            Diagnostic(
                "E103",
                "the shot ends inside this `[[` note",
                note,
                "close the note with `]]` before the next `SHOT`, `SCENE` or `ELEMENT`",
            )
        )
    out.end_paragraph()
    return ShotProse("\n".join(out.paragraphs), tuple(out.cues), tuple(diagnostics))
