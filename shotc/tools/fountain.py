"""A reader of Fountain screenplays (https://fountain.io, version 1.1) for `shotc import
fountain`: turns the text into a flat list of typed elements. Writing `.shot` from them is
`shotc.tools.fountain_shot`.

This is our own small parser rather than a PyPI package: the maintained candidates either drop
what the import must keep (`[[notes]]`, centered text) or come without type information
(mypy --strict) and with one maintainer and a few releases; the subset an import needs is a
line classifier of about two hundred lines (docs/editors.md says more).

What it reads, in the order the Fountain spec gives precedence: the title page (`Key: value`
lines at the very start, indented continuation lines), boneyard `/* */` (removed; whole lines
kept as a `Boneyard` element), page breaks `===` (dropped), sections `#`, synopses `=`,
centered text `>...<`, transitions (forced `>`, or an upper-case line ending in `TO:` between
blank lines), scene headings (`INT`, `EXT`, `EST`, `INT./EXT`, `INT/EXT`, `I/E`, or forced
`.`; a trailing `#1A#` scene number is removed), characters (an upper-case line, or forced `@`,
after a blank line and before a non-blank one; `(V.O.)`-style extensions, `^` for dual
dialogue) with their parentheticals and dialogue, and action (forced `!`). Emphasis markup
(`*`, `**`, `***`, `_`) is removed from every text, `\\*` and `\\_` become `*` and `_`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shotc.kling import CONTROL as CONTROL_CHARACTER

_TITLE_KEY = re.compile(r"([A-Za-z][A-Za-z0-9 _-]*?)\s*:\s*(.*)$")
_HEADING = re.compile(r"(?i:int\.?/ext|int/ext|i/e|int|ext|est)[. ]")
_SCENE_NUMBER = re.compile(r"\s*#[A-Za-z0-9.\-]+#\s*$")
_EXTENSION = re.compile(r"\(([^)]*)\)")
_PAGE_BREAK = re.compile(r"={3,}")
_EMPHASIS = re.compile(r"(\*{1,3}|_)(?=\S)(.+?)(?<=\S)\1")
_INLINE_BONEYARD = re.compile(r"[ \t]*/\*.*?\*/")
# Not `TO:` lines, but transitions in every screenplay (Fountain reads them as action).
_FADES = frozenset({"FADE IN:", "FADE IN.", "FADE OUT.", "FADE OUT:", "FADE TO BLACK."})


@dataclass(frozen=True, slots=True)
class TitleEntry:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


@dataclass(frozen=True, slots=True)
class Action:
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A character's block: `parts` are ("paren", text) and ("text", text) in order."""

    character: str
    extensions: tuple[str, ...]
    parts: tuple[tuple[str, str], ...]
    dual: bool


@dataclass(frozen=True, slots=True)
class Transition:
    text: str


@dataclass(frozen=True, slots=True)
class Centered:
    text: str


@dataclass(frozen=True, slots=True)
class Section:
    depth: int
    text: str


@dataclass(frozen=True, slots=True)
class Synopsis:
    text: str


@dataclass(frozen=True, slots=True)
class Boneyard:
    lines: tuple[str, ...]


Element = Heading | Action | Dialogue | Transition | Centered | Section | Synopsis | Boneyard


@dataclass(slots=True)
class Screenplay:
    title_page: list[TitleEntry] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)


def strip_emphasis(text: str) -> str:
    """Text without Fountain's emphasis markup; `\\*` and `\\_` are literal."""
    protected = text.replace("\\*", "\x00").replace("\\_", "\x01")
    previous = None
    while previous != protected:  # nested: ***bold italic*** or **_bold underline_**
        previous = protected
        protected = _EMPHASIS.sub(lambda match: match.group(2), protected)
    return protected.replace("\x00", "*").replace("\x01", "_")


def _title_page(lines: list[str]) -> tuple[list[TitleEntry], int]:
    """The title page entries and the index of the first line after it."""
    if not lines or _TITLE_KEY.match(lines[0]) is None or lines[0].rstrip().endswith("TO:"):
        return [], 0
    entries: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(lines) and lines[index].strip():
        line = lines[index]
        match = _TITLE_KEY.match(line)
        if match is not None and not line[:1].isspace():
            entries.append((match.group(1).strip(), [match.group(2).strip()]))
        elif entries:
            entries[-1][1].append(line.strip())
        index += 1
    page = [
        TitleEntry(key, strip_emphasis(" ".join(part for part in parts if part)))
        for key, parts in entries
    ]
    return page, index


def _without_boneyard(lines: list[str]) -> list[str | Boneyard]:
    """Lines with `/* */` removed; lines wholly inside a boneyard become one Boneyard."""
    out: list[str | Boneyard] = []
    held: list[str] | None = None  # lines of an open boneyard
    for raw in lines:
        line = raw
        if held is not None:
            if "*/" not in line:
                held.append(line)
                continue
            inside, line = line.split("*/", 1)
            held.append(inside)
            out.append(Boneyard(tuple(part for part in held if part.strip())))
            held = None
            if not line.strip():
                continue
        line = _INLINE_BONEYARD.sub("", line)
        if "/*" in line:
            line, opened = line.split("/*", 1)
            held = [opened]
            if line.strip():
                out.append(line)
            continue
        out.append(line)
    if held is not None:  # an unclosed boneyard runs to the end, as in Fountain
        out.append(Boneyard(tuple(part for part in held if part.strip())))
    return out


def _is_blank(item: str | Boneyard | None) -> bool:
    return item is None or isinstance(item, Boneyard) or not item.strip()


def _is_character(line: str) -> bool:
    stripped = line.strip()
    if stripped.startswith("@"):
        return len(stripped) > 1
    name = _EXTENSION.sub("", stripped).rstrip("^").strip()
    return any(c.isalpha() for c in name) and name == name.upper() and not name.endswith("TO:")


def _dialogue(first: str, body: list[str]) -> Dialogue:
    stripped = first.strip()
    dual = stripped.endswith("^")
    stripped = stripped.rstrip("^").strip()
    if stripped.startswith("@"):
        stripped = stripped[1:]
    extensions = tuple(strip_emphasis(ext.strip()) for ext in _EXTENSION.findall(stripped))
    name = strip_emphasis(_EXTENSION.sub("", stripped).strip())
    parts: list[tuple[str, str]] = []
    for line in body:
        text = line.strip()
        if text.startswith("(") and text.endswith(")"):
            parts.append(("paren", strip_emphasis(text[1:-1].strip())))
        elif text:
            parts.append(("text", strip_emphasis(text.lstrip("~").strip())))
    return Dialogue(name, extensions, tuple(parts), dual)


def _single(line: str, prev_blank: bool, next_blank: bool) -> Element | None:
    """The element a line is on its own, or None when it starts dialogue or action."""
    stripped = line.strip()
    if stripped.startswith("#"):
        marks = len(stripped) - len(stripped.lstrip("#"))
        return Section(marks, strip_emphasis(stripped[marks:].strip()))
    if stripped.startswith("=") and not stripped.startswith("=="):
        return Synopsis(strip_emphasis(stripped[1:].strip()))
    if stripped.startswith(">") and stripped.endswith("<") and len(stripped) > 1:
        return Centered(strip_emphasis(stripped[1:-1].strip()))
    if stripped.startswith(">"):
        return Transition(strip_emphasis(stripped[1:].strip()))
    if stripped.startswith(".") and not stripped.startswith(".."):
        return Heading(strip_emphasis(_SCENE_NUMBER.sub("", stripped[1:]).strip()))
    if prev_blank and _HEADING.match(stripped):
        return Heading(strip_emphasis(_SCENE_NUMBER.sub("", stripped).strip()))
    upper = stripped == stripped.upper()
    if prev_blank and next_blank and upper and (stripped.endswith("TO:") or stripped in _FADES):
        return Transition(strip_emphasis(stripped))
    return None


def parse(text: str) -> Screenplay:
    """The elements of a Fountain screenplay, in order."""
    # `.shot` refuses control characters (E100); a screenplay's are noise from its editor.
    text = CONTROL_CHARACTER.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    page, start = _title_page(lines)
    items = _without_boneyard(lines[start:])
    play = Screenplay(page)
    index = 0
    prev_blank = True
    while index < len(items):
        item = items[index]
        if isinstance(item, Boneyard):
            if item.lines:
                play.elements.append(item)
            index += 1
            continue
        if not item.strip() or _PAGE_BREAK.fullmatch(item.strip()):
            prev_blank = True
            index += 1
            continue
        following = items[index + 1] if index + 1 < len(items) else None
        single = (
            None
            if item.lstrip().startswith("!")
            else _single(item, prev_blank, _is_blank(following))
        )
        if single is not None:
            play.elements.append(single)
            index += 1
            prev_blank = False
            continue
        block: list[str] = []
        end = index + 1
        # A paragraph runs to a blank line; in dialogue a line of two spaces continues it.
        while end < len(items) and isinstance(items[end], str):
            line = items[end]
            assert isinstance(line, str)
            if not line.strip() and line != "  ":
                break
            block.append(line)
            end += 1
        if prev_blank and block and not item.lstrip().startswith("!") and _is_character(item):
            play.elements.append(_dialogue(item, block))
        else:
            first = item.lstrip()[1:] if item.lstrip().startswith("!") else item
            paragraph = [first, *(line[1:] if line.startswith("!") else line for line in block)]
            play.elements.append(Action(tuple(strip_emphasis(line.rstrip()) for line in paragraph)))
        index = end
        prev_blank = False
    return play
