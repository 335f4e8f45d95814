"""Stage 1: the lexer. Splits decoded source text into lines and classifies each line as one
terminal of `grammar/shot.lark` (comments are dropped here, before anything else).

Outside a shot it also removes `[[notes]]` before a line is read (language 1.1 §1): a note is
blanked with spaces, so every column of the line stays the original one, and `Line.clean`
gives a value with the white space around each note collapsed to one space. Inside a shot
notes are the prose stage's business (`shotc.language.prose`), as in version 1.

Only a line's shape is decided here; where a line stands (and so whether it is in place) is
the semantic stage's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from typing import NamedTuple

from shotc.kling import HTTP_URL as _URL
from shotc.kling import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from shotc.kling import SPACE as _SPACE

MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS


class LineKind(StrEnum):
    """What a line is: one terminal of `grammar/shot.lark` each (a test checks the grammar
    declares exactly these). The values are the terminal names, the keys of the generated
    parser tables, so a member is looked up there as the string it equals."""

    SCENE = "SCENE"
    SHOT = "SHOT"
    ELEMENT = "ELEMENT"
    FIRST_FRAME = "FIRST_FRAME"
    LAST_FRAME = "LAST_FRAME"
    INCLUDE = "INCLUDE"
    SETTING = "SETTING"
    REFERENCE = "REFERENCE"
    PROSE = "PROSE"
    BLANK = "BLANK"

    @property
    def keyword(self) -> str:
        """A directive's keyword as written in a script: `FIRST FRAME` for FIRST_FRAME."""
        return self.value.replace("_", " ")


DIRECTIVE_KINDS = (
    LineKind.SCENE,
    LineKind.SHOT,
    LineKind.ELEMENT,
    LineKind.INCLUDE,
    LineKind.FIRST_FRAME,
    LineKind.LAST_FRAME,
)
# Module globals for the per-line code below: a global is read faster than an enum attribute.
_BLANK, _PROSE, _SETTING_KIND, _REFERENCE = (
    LineKind.BLANK,
    LineKind.PROSE,
    LineKind.SETTING,
    LineKind.REFERENCE,
)

# Directive keywords in the order they are tried; FIRST/LAST FRAME are two words.
_DIRECTIVE = re.compile(r"(SCENE|SHOT|ELEMENT|INCLUDE|FIRST\s+FRAME|LAST\s+FRAME)(?=\s|$)")
_KIND_OF_KEYWORD = {kind.keyword.split()[0]: kind for kind in DIRECTIVE_KINDS}
_SETTING = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s*:(?!//)")
_PREFIX = re.compile(r"(?i:(image|video))\s+(?=\S)")


class Line(NamedTuple):
    """One source line, classified. `start`/`end` are 0-based code-point offsets of the first
    non-blank character and one past the last; `arg` is where the content after the keyword,
    the `!` or the setting's `:` begins.

    A named tuple, immutable like the frozen dataclass it was, and made in about half the time:
    every line of a script is one, so for a 10,000-scene build that is ~40 ms."""

    kind: LineKind
    number: int
    text: str
    start: int
    end: int
    arg: int
    notes: tuple[tuple[int, int], ...] = ()  # blanked `[[...]]` ranges (outside shots)

    @property
    def content(self) -> str:
        """The line's text after its keyword (or `!`, or `Key:`), trimmed."""
        if self.notes:
            return self.clean(self.arg, self.end)
        return self.text[self.arg : self.end].strip()

    def clean(self, start: int, end: int) -> str:
        """`text[start:end]`, trimmed, with each run of white space that holds a removed note
        collapsed to one space (`a [[big]] dog` is `a dog`)."""
        text = self.text
        if not self.notes:
            return text[start:end].strip()
        out: list[str] = []
        position = start
        for lo, hi in self.notes:
            if hi <= position or lo >= end:
                continue
            out.append(text[position : max(lo, position)].rstrip())
            out.append(" ")
            position = min(hi, end)
            while position < end and text[position].isspace():
                position += 1
        out.append(text[position:end])
        return "".join(out).strip()


def split_lines(text: str) -> list[str]:
    """Lines end at LF or CRLF; a lone CR is ordinary white space inside a line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def is_reference_token(token: str) -> bool:
    """An http(s) URL or a token ending in a known media extension."""
    if _URL.match(token):
        return True
    dot = token.rfind(".")
    return dot > 0 and token[dot:].lower() in MEDIA_EXTENSIONS and "/" not in token[dot:]


def split_prefix(text: str) -> tuple[str | None, int]:
    """(`image`/`video` or None, offset where the reference token starts) for `text`."""
    match = _PREFIX.match(text)
    if match is None:
        return None, 0
    return match.group(1).lower(), match.end()


def classify(text: str, number: int) -> Line | None:
    """The terminal for one line, or None for a comment line."""
    if not text:
        return Line(_BLANK, number, text, 0, 0, 0)
    stripped = text.lstrip()
    if not stripped:
        return Line(_BLANK, number, text, len(text), len(text), len(text))
    start = len(text) - len(stripped)
    end = len(text.rstrip())
    first = stripped[0]
    if first == "#":
        return None
    if first == "!":
        return Line(_PROSE, number, text, start, end, start + 1)
    if first.isupper():
        match = _DIRECTIVE.match(text, start)
        if match is not None:
            kind = _KIND_OF_KEYWORD[match.group(1).split(None, 1)[0]]
            return Line(kind, number, text, start, end, match.end())
    match = _SETTING.match(text, start)
    if match is not None:
        return Line(_SETTING_KIND, number, text, start, end, match.end())
    # a reference is one token, after an optional `image`/`video` prefix: a line with white
    # space inside and no prefix (nearly all prose) is prose without looking further
    body = text[start:end] if start or end != len(text) else text
    prefix = _PREFIX.match(body)
    token = body[prefix.end() :] if prefix is not None else body
    if token and _SPACE.search(token) is None and is_reference_token(token):
        return Line(_REFERENCE, number, text, start, end, start)
    return Line(_PROSE, number, text, start, end, start)


_SHOT_ENDS = frozenset({LineKind.SCENE, LineKind.ELEMENT})
_SHOT = LineKind.SHOT


def tokenize(
    text: str, unclosed: list[tuple[int, int]] | None = None, first_line: int = 1
) -> Iterator[Line]:
    """The classified lines of `text`, numbered from `first_line` (the editor parses a
    document scene by scene). Outside a shot, notes are removed first; each `[[` left open at
    the next directive line or the end is appended to `unclosed` as its (line, 0-based
    column), for E103."""
    in_shot = False
    note: tuple[int, int] | None = None  # an open note outside a shot: where its `[[` is
    for number, raw in enumerate(split_lines(text), start=first_line):
        if note is None and (in_shot or "[[" not in raw):
            classified = classify(raw, number)
            ends_shot = in_shot and classified is not None and classified.kind in _SHOT_ENDS
            if ends_shot and "[[" in raw:  # the line that ends a shot is read outside it (§1)
                classified, note = _without_notes(raw, number, note, unclosed)
        else:
            classified, note = _without_notes(raw, number, note, unclosed)
        if classified is None:
            continue
        kind = classified.kind
        if kind == _SHOT:
            in_shot = True
        elif kind in _SHOT_ENDS:
            in_shot = False
        yield classified
    if note is not None and unclosed is not None:
        unclosed.append(note)


def _without_notes(
    raw: str,
    number: int,
    note: tuple[int, int] | None,
    unclosed: list[tuple[int, int]] | None,
) -> tuple[Line | None, tuple[int, int] | None]:
    """A line outside a shot with its notes blanked (None: a comment, a line wholly inside a
    note, or one that is empty once its notes are gone), and the note still open after it."""
    stripped = raw.lstrip()
    if stripped.startswith("#"):
        return None, note  # comments are deleted first, even inside a note
    position = 0
    ranges: list[tuple[int, int]] = []
    if note is not None:
        if stripped[:1].isupper() and _DIRECTIVE.match(raw, len(raw) - len(stripped)):
            if unclosed is not None:
                unclosed.append(note)  # a directive line closes nothing: the note was open
            note = None
        else:
            close = raw.find("]]")
            if close < 0:
                return None, note
            ranges.append((0, close + 2))
            position, note = close + 2, None
    while True:
        opening = raw.find("[[", position)
        if opening < 0:
            break
        closing = raw.find("]]", opening + 2)
        if closing < 0:
            ranges.append((opening, len(raw)))
            note = (number, opening)
            break
        ranges.append((opening, closing + 2))
        position = closing + 2
    if not ranges:
        return classify(raw, number), note
    chars = list(raw)
    for lo, hi in ranges:
        chars[lo:hi] = " " * (hi - lo)
    blanked = "".join(chars)
    if not blanked.strip():
        return None, note  # empty once its notes are removed: deleted like a comment
    line = classify(blanked, number)
    if line is None:
        return None, note
    return Line(line.kind, number, blanked, line.start, line.end, line.arg, tuple(ranges)), note
