"""Stage 1: the lexer. Splits decoded source text into lines and classifies each line as one
terminal of `grammar/shot.lark` (comments are dropped here, before anything else).

Only a line's shape is decided here; where a line stands (and so whether it is in place) is
the semantic stage's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MEDIA_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".mp4", ".mov"})

# Directive keywords in the order they are tried; FIRST/LAST FRAME are two words.
_DIRECTIVE = re.compile(r"(SCENE|SHOT|ELEMENT|INCLUDE|FIRST\s+FRAME|LAST\s+FRAME)(?=\s|$)")
_KIND_OF_KEYWORD = {
    "SCENE": "SCENE",
    "SHOT": "SHOT",
    "ELEMENT": "ELEMENT",
    "INCLUDE": "INCLUDE",
    "FIRST": "FIRST_FRAME",
    "LAST": "LAST_FRAME",
}
_SETTING = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s*:(?!//)")
_PREFIX = re.compile(r"(?i:(image|video))\s+(?=\S)")
_URL = re.compile(r"(?i:https?)://")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Line:
    """One source line, classified. `start`/`end` are 0-based code-point offsets of the first
    non-blank character and one past the last; `arg` is where the content after the keyword,
    the `!` or the setting's `:` begins."""

    kind: str
    number: int
    text: str
    start: int
    end: int
    arg: int

    @property
    def content(self) -> str:
        """The line's text after its keyword (or `!`, or `Key:`), trimmed."""
        return self.text[self.arg : self.end].strip()


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
    stripped = text.lstrip()
    if not stripped:
        return Line("BLANK", number, text, len(text), len(text), len(text))
    start = len(text) - len(stripped)
    end = len(text.rstrip())
    first = stripped[0]
    if first == "#":
        return None
    if first == "!":
        return Line("PROSE", number, text, start, end, start + 1)
    if first.isupper():
        match = _DIRECTIVE.match(text, start)
        if match is not None:
            kind = _KIND_OF_KEYWORD[match.group(1).split(None, 1)[0]]
            return Line(kind, number, text, start, end, match.end())
    match = _SETTING.match(text, start)
    if match is not None:
        return Line("SETTING", number, text, start, end, match.end())
    body = text[start:end]
    _prefix, offset = split_prefix(body)
    token = body[offset:]
    if token and _SPACE.search(token) is None and is_reference_token(token):
        return Line("REFERENCE", number, text, start, end, start)
    return Line("PROSE", number, text, start, end, start)


def tokenize(text: str) -> Iterator[Line]:
    for number, line in enumerate(split_lines(text), start=1):
        classified = classify(line, number)
        if classified is not None:
            yield classified
