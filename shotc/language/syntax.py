"""Stage 3: the typed AST. Frozen dataclasses, every node carrying the span it came from.

Built from the parse tree by `shotc.language.builder`; read by the checks
(`shotc.language.checks`) and the
emitter (`shotc.request.emit`). Values are kept as written (trimmed); validation happens in checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from shotc.diagnostics import Span


@dataclass(frozen=True, slots=True)
class Setting:
    key: str  # as written
    value: str  # trimmed
    span: Span  # the line
    key_span: Span
    value_span: Span  # the value, or the key when the value is empty

    @property
    def name(self) -> str:
        return self.key.lower()


@dataclass(frozen=True, slots=True)
class Reference:
    """A media reference: an http(s) URL or a local path, with its optional prefix."""

    target: str  # the token, without the `image `/`video ` prefix
    prefix: str | None  # "image", "video" or None
    span: Span  # the token, prefix excluded


@dataclass(frozen=True, slots=True)
class Element:
    name: str | None  # None when the name is missing or invalid (E203)
    description: str | None  # None when missing (E204)
    references: tuple[Reference, ...]
    span: Span  # the ELEMENT line
    name_span: Span  # `@name`, or the line when there is no valid name
    header_ok: bool  # False when the ELEMENT line had E203/E204
    block_ok: bool  # False when a line of its block had an error (E105)
    file: str


@dataclass(frozen=True, slots=True)
class Frame:
    which: str  # "first" or "last"
    reference: Reference
    span: Span  # the line


@dataclass(frozen=True, slots=True)
class Include:
    path: str
    span: Span  # the line


@dataclass(frozen=True, slots=True)
class Cue:
    name: str
    span: Span  # `@name`


@dataclass(frozen=True, slots=True)
class Shot:
    seconds: int | None  # None when the duration is bad (E102)
    prompt: str
    cues: tuple[Cue, ...]
    span: Span  # the SHOT line


@dataclass(frozen=True, slots=True)
class Scene:
    title: str
    index: int  # 1-based position in the file
    settings: tuple[Setting, ...]
    frames: tuple[Frame, ...]
    shots: tuple[Shot, ...]
    span: Span  # the SCENE line; for a file without scenes, its first SHOT line
    implicit: bool  # the single scene of a file without SCENE lines


@dataclass(frozen=True, slots=True)
class Script:
    path: str  # as shown in diagnostics
    stem: str
    settings: tuple[Setting, ...]  # the title page's
    includes: tuple[Include, ...]
    elements: tuple[Element, ...]  # every declaration of this file, in order
    scenes: tuple[Scene, ...]
    has_shots: bool
    library_lines: frozenset[int]  # lines checked when the file is included (title page, elements)
