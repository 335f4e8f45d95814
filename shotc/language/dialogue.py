"""Stage 3 (AST), dialogue lines (language 1.1 §3): the shape of a dialogue line, its tone, the
words of its spoken text, and the prompt paragraph it compiles to.

One home for the shape, so the prose stage (`shotc.language.prose`), `fmt` and `decompile`
agree on what is a dialogue line and how it is written:
`[SPEAKER: VOICE, TONE]: "TEXT"`, the published Kling 3.0 multi-character convention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# speaker (a cue, or one to three words checked by `is_name`), an optional parenthetical up to
# the first `)`, white space allowed before `(` and `:`, then the opening quote
_SHAPE = re.compile(
    r"(@[A-Za-z0-9_-]+|[^\s(:@\"“]+(?:\s+[^\s(:\"“]+){0,2})"
    r"\s*(?:\(([^)]*)\))?\s*:\s*([\"“])"
)
_NAME_MARKS = frozenset("'’.-")
_VOICE_OVER = re.compile(r"(?i)v\.?o\.?")
_OFF_SCREEN = re.compile(r"(?i)o\.?[sc]\.?")
_CONTINUED = re.compile(r"(?i)cont['’]?d\.?")
_WORD = re.compile(r"[^\W_]+")
OPENING_QUOTES = '"“'
CLOSING_QUOTES = '"”'


@dataclass(frozen=True, slots=True)
class Shape:
    """Where the parts of a dialogue line stand, as offsets into the text matched."""

    speaker: str  # as written, white space collapsed
    speaker_start: int
    speaker_end: int
    paren: tuple[int, int] | None  # inside the parentheses
    quote: int  # the opening quote


def is_name(words: str) -> bool:
    """A character name: words of upper-case letters, digits, `'`, `’`, `.` and `-`, the first
    character a letter."""
    if not words[:1].isalpha():
        return False
    return all(
        c.isspace() or c.isdecimal() or c in _NAME_MARKS or (c.isalpha() and c.isupper())
        for c in words
    )


def shape_of(text: str, start: int = 0) -> Shape | None:
    """The dialogue shape at `start` of `text` (after its white space), or None for prose."""
    while start < len(text) and text[start].isspace():
        start += 1
    match = _SHAPE.match(text, start)
    if match is None:
        return None
    speaker = match.group(1)
    if not speaker.startswith("@") and not is_name(speaker):
        return None
    paren = (match.start(2), match.end(2)) if match.group(2) is not None else None
    return Shape(" ".join(speaker.split()), match.start(1), match.end(1), paren, match.start(3))


def tone_of(parenthetical: str | None) -> str | None:
    """The tone a parenthetical gives: `voice-over`, `off screen`, as written, or None."""
    if parenthetical is None:
        return None
    tone = " ".join(parenthetical.split())
    if not tone or _CONTINUED.fullmatch(tone):
        return None
    if _VOICE_OVER.fullmatch(tone):
        return "voice-over"
    if _OFF_SCREEN.fullmatch(tone):
        return "off screen"
    return tone


def render(speaker: str, voice: str | None, tone: str | None, text: str) -> str:
    """The prompt paragraph of a dialogue line."""
    label = speaker
    if voice:
        label += ": " + voice
    if tone:
        label += ", " + tone
    return f'[{label}]: "{text}"'


def count_words(text: str) -> int:
    """Runs of letters or digits (`don't` is two)."""
    return len(_WORD.findall(text))
