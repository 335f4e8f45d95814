"""Stage 3 (AST), shot prose: turns the lines of a shot into its paragraphs and prompt. Joins
lines and paragraphs, removes `[[notes]]` (which may cross lines), finds dialogue lines
(`shotc.language.dialogue`), finds `@cues`, reads `@@` (E209 before a name), and reports the
lines that do not belong in prose (E105, E106)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shotc.diagnostics import Diagnostic, Problems, Span
from shotc.language import dialogue
from shotc.language.lexer import Line, LineKind
from shotc.language.syntax import Cue, Dialogue, Paragraph

_CUE = re.compile(r"@(@|[A-Za-z0-9_-]+)?")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_-]+")
_OUT_OF_PLACE = {
    LineKind.REFERENCE: "a media reference inside a shot is not part of the prompt",
    LineKind.FIRST_FRAME: "`FIRST FRAME` inside a shot: frames go in the scene's preamble",
    LineKind.LAST_FRAME: "`LAST FRAME` inside a shot: frames go in the scene's preamble",
    LineKind.INCLUDE: "`INCLUDE` inside a shot: includes go in the title page",
}
_WRONG_CASE = (
    (re.compile(r"(?i)(shot)\s+([0-9]+)\s*s?"), "SHOT"),
    (re.compile(r"(?i)(element)\s+@.*"), "ELEMENT"),
    (re.compile(r"(?i)(first\s+frame)\s+\S+"), "FIRST FRAME"),
    (re.compile(r"(?i)(last\s+frame)\s+\S+"), "LAST FRAME"),
    (re.compile(r"(?i)(include)\s+\S+"), "INCLUDE"),
)
_SCENE_WRONG_CASE = re.compile(r"(?i)(scene)(?:\s+.*)?")
# Every pattern above starts with its keyword: a line that does not (nearly every prose line)
# is answered by one match instead of six. The same (?i) as theirs, so the same letters match.
_KEYWORD_START = re.compile(r"(?i)shot|element|first|last|include|scene")


def line_span(line: Line, file: str) -> Span:
    return Span(file, line.number, line.start + 1, line.number, line.end + 1)


def wrong_case_directive(body: str, *, scene_too: bool) -> str | None:
    """If `body` has a directive's shape with its keyword in the wrong case, the line as it
    would read as a directive; otherwise None."""
    if _KEYWORD_START.match(body) is None:
        return None
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
    prompt: str  # with no voices
    cues: tuple[Cue, ...]
    paragraphs: tuple[Paragraph, ...]
    diagnostics: tuple[Diagnostic, ...]
    unclosed_note: bool


class _Visible:
    """A shot line with its notes removed: `text`, and where each of its characters stands in
    the original line (`base + i`, or `cols[i]` when notes split it)."""

    __slots__ = ("base", "candidate", "line", "segments", "text")

    def __init__(self, line: Line, segments: list[tuple[int, int]], candidate: bool) -> None:
        self.line = line
        self.candidate = candidate  # may be a dialogue line
        self.segments: list[tuple[int, int]] | None
        if len(segments) == 1:
            lo, hi = segments[0]
            self.text, self.base, self.segments = line.text[lo:hi], lo, None
        else:
            text = line.text
            self.text = "".join([text[lo:hi] for lo, hi in segments])
            self.base = 0
            self.segments = segments

    def col(self, i: int) -> int:
        """The 0-based column in the original line of visible character `i` (one past the
        last visible character for `i` past the end; 0 when nothing is visible)."""
        if self.segments is None:
            return self.base + i
        if i < 0:  # as indexing from the end of the expanded columns (never seen in practice)
            return [c for lo, hi in self.segments for c in range(lo, hi)][i]
        end = 0
        for lo, hi in self.segments:  # a few segments: walked, not expanded per character
            if i < hi - lo:
                return lo + i
            i -= hi - lo
            if hi > lo:
                end = hi
        return end


class _Scanner:
    """Reads `@` in visible text: cues (with their original spans), `@@` (E209 before a name)."""

    def __init__(self, file: str, diagnostics: Problems) -> None:
        self.file = file
        self.diagnostics = diagnostics

    def span(self, v: _Visible, lo: int, hi: int) -> Span:
        number = v.line.number
        return Span(self.file, number, v.col(lo) + 1, number, v.col(hi - 1) + 2)

    def scan(self, v: _Visible, lo: int, hi: int, cues: list[Cue]) -> str:
        text = v.text
        if "@" not in text[lo:hi]:
            return text[lo:hi]
        out: list[str] = []
        position = lo
        for match in _CUE.finditer(text, lo, hi):
            name = match.group(1)
            out.append(text[position : match.start()])
            position = match.end()
            if name == "@":
                after = _NAME_CHAR.match(text, match.end(), hi)
                out.append("@")
                if after is not None:
                    self.diagnostics.add(
                        "E209",
                        f"`@@{after.group()}`: kie.ai reads `@{after.group()}` as an element cue",
                        self.span(v, match.start(), after.end()),
                        "write `at`, or put a space after the `@`",
                    )
            elif name is not None:
                cues.append(Cue(name, self.span(v, match.start(), match.end())))
                out.append(match.group())
            else:
                out.append("@")
        out.append(text[position:hi])
        return "".join(out)


def _plain(lines: Sequence[Line]) -> ShotProse | None:
    """The fast path: a shot of plain prose lines (no `!`, note, cue, dialogue, nor a line
    that starts like a directive keyword) is its paragraphs' text, white space collapsed.
    None for any other shot, which the general path below reads. Most shots of a long script
    are plain, and this reads them in about a third of the time."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        kind = line.kind
        if kind == LineKind.BLANK:
            if blocks[-1]:
                blocks.append([])
            continue
        if kind != LineKind.PROSE or line.arg != line.start:
            return None
        body = line.text[line.start : line.end]
        if "@" in body or "[[" in body or _KEYWORD_START.match(body) is not None:
            return None
        if ":" in body and ('"' in body or "“" in body):
            return None  # may be a dialogue line
        blocks[-1].append(body)
    texts = [" ".join(" ".join(block).split()) for block in blocks if block]
    paragraphs = tuple(Paragraph(text, ()) for text in texts if text)
    return ShotProse("\n".join(p.text for p in paragraphs), (), paragraphs, (), False)


def shot_prose(lines: Sequence[Line], file: str) -> ShotProse:
    plain = _plain(lines)
    return plain if plain is not None else read_shot(lines, file)


def read_shot(lines: Sequence[Line], file: str) -> ShotProse:
    """The general path: any shot's lines (`shot_prose` tries the plain fast path first)."""
    diagnostics = Problems()
    note: Span | None = None  # where the open `[[` stands
    blocks: list[list[_Visible]] = [[]]  # paragraphs of visible lines
    for line in lines:
        if line.kind == LineKind.BLANK:
            if note is None and blocks[-1]:
                blocks.append([])
            continue
        position = line.arg if line.kind == LineKind.PROSE else line.start
        candidate = line.kind == LineKind.SETTING or (
            line.kind == LineKind.PROSE and line.arg == line.start
        )
        if note is not None:
            close = line.text.find("]]", position, line.end)
            if close < 0:
                continue
            note, position, candidate = None, close + 2, False
        elif line.kind in _OUT_OF_PLACE:
            diagnostics.add(
                "E105",
                _OUT_OF_PLACE[line.kind],
                line_span(line, file),
                "move it out of the shot, or start the line with `!` to keep it as prose",
            )
            continue
        elif line.kind == LineKind.PROSE and line.arg == line.start:
            fixed = wrong_case_directive(line.text[line.start : line.end], scene_too=False)
            if fixed is not None:
                candidate = False
                diagnostics.add(
                    "E106",
                    "this line looks like a directive in the wrong case",
                    line_span(line, file),
                    f"write `{fixed}` to make it a directive; start the line with `!` to "
                    "keep it as prose",
                )
        segments: list[tuple[int, int]] = []
        while True:
            opening = line.text.find("[[", position, line.end)
            if opening < 0:
                segments.append((position, line.end))
                break
            segments.append((position, opening))
            closing = line.text.find("]]", opening + 2, line.end)
            if closing < 0:
                note = Span(file, line.number, opening + 1, line.number, opening + 3)
                break
            position = closing + 2
        blocks[-1].append(_Visible(line, segments, candidate))
    if note is not None:
        diagnostics.add(
            "E103",
            "the shot ends inside this `[[` note",
            note,
            "close the note with `]]` before the next `SHOT`, `SCENE` or `ELEMENT`",
        )
    scanner = _Scanner(file, diagnostics)
    paragraphs: list[Paragraph] = []
    for block in blocks:
        if block:
            _paragraphs(block, scanner, paragraphs)
    prompt = "\n".join(_rendered(p) for p in paragraphs)
    cues = tuple(cue for p in paragraphs for cue in p.cues)
    return ShotProse(prompt, cues, tuple(paragraphs), tuple(diagnostics), note is not None)


def _rendered(paragraph: Paragraph) -> str:
    d = paragraph.dialogue
    return paragraph.text if d is None else dialogue.render(d.speaker, None, d.tone, paragraph.text)


_Range = tuple[_Visible, int, int]


def _prose(ranges: list[_Range], scanner: _Scanner, out: list[Paragraph]) -> None:
    cues: list[Cue] = []
    text = " ".join(scanner.scan(v, lo, hi, cues) for v, lo, hi in ranges)
    paragraph = " ".join(text.split())
    if paragraph:
        out.append(Paragraph(paragraph, tuple(cues)))


def _paragraphs(block: list[_Visible], scanner: _Scanner, out: list[Paragraph]) -> None:
    # most lines hold no `:` and no quote: skip the dialogue pattern for them (the hot path)
    shapes = [
        dialogue.shape_of(v.text)
        if v.candidate and ":" in v.text and ('"' in v.text or "“" in v.text)
        else None
        for v in block
    ]
    starts = [i for i, shape in enumerate(shapes) if shape is not None]
    if not starts:
        _prose([(v, 0, len(v.text)) for v in block], scanner, out)
        return
    if starts[0]:
        _prose([(v, 0, len(v.text)) for v in block[: starts[0]]], scanner, out)
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(block)
        shape = shapes[start]
        assert shape is not None
        _dialogue(block[start:end], shape, scanner, out)


def _closing(lines: list[_Visible], quote: int) -> tuple[int, int] | None:
    """(line, offset) of the closing quote: the first one that ends a line, else the last
    one of the block, else None."""
    for k, v in enumerate(lines):
        text = v.text.rstrip()
        if len(text) > (quote + 1 if k == 0 else 0) and text[-1] in dialogue.CLOSING_QUOTES:
            return k, len(text) - 1
    for k in range(len(lines) - 1, -1, -1):
        lo = quote + 1 if k == 0 else 0
        found = max(lines[k].text.rfind(q, lo) for q in dialogue.CLOSING_QUOTES)
        if found >= 0:
            return k, found
    return None


def _dialogue(
    lines: list[_Visible], shape: dialogue.Shape, scanner: _Scanner, out: list[Paragraph]
) -> None:
    first = lines[0]
    cues: list[Cue] = []
    cue = None
    if shape.speaker.startswith("@"):
        cue = Cue(shape.speaker[1:], scanner.span(first, shape.speaker_start, shape.speaker_end))
        cues.append(cue)
    tone = None
    if shape.paren is not None:
        tone = dialogue.tone_of(scanner.scan(first, *shape.paren, cues))
    closing = _closing(lines, shape.quote)
    last, at = closing if closing is not None else (len(lines) - 1, len(lines[-1].text))
    spoken: list[_Range] = []
    for k in range(last + 1):
        v = lines[k]
        spoken.append((v, shape.quote + 1 if k == 0 else 0, at if k == last else len(v.text)))
    text = " ".join(scanner.scan(v, lo, hi, cues) for v, lo, hi in spoken)
    text = " ".join(text.split())
    span = line_span(first.line, scanner.file)
    if not text:
        scanner.diagnostics.add(
            "E212",
            "this dialogue line has no spoken text",
            span,
            'write the line between the quotes: `MARA: "We should go back."`',
        )
    speech = Dialogue(shape.speaker, cue, tone, dialogue.count_words(text), span)
    out.append(Paragraph(text, tuple(cues), speech))
    if closing is not None:
        rest: list[_Range] = [(lines[last], at + 1, len(lines[last].text))]
        rest += [(v, 0, len(v.text)) for v in lines[last + 1 :]]
        _prose(rest, scanner, out)


def prompt_text(
    line: Line, start: int, end: int, file: str, diagnostics: Problems
) -> tuple[str, tuple[Cue, ...]]:
    """Prompt text outside a shot (a `Voice:` value): white space collapsed, cues found,
    `@@` read. Notes there are already blanked by the lexer."""
    cues: list[Cue] = []
    visible = _Visible(line, [(start, end)], False)
    text = _Scanner(file, diagnostics).scan(visible, 0, end - start, cues)
    return " ".join(text.split()), tuple(cues)
