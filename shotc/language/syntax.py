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
class Cue:
    name: str
    span: Span  # `@name`


@dataclass(frozen=True, slots=True)
class Voice:
    """An element's `Voice:` line (language 1.1 §3): prompt text, so its cues are cues."""

    text: str  # white space collapsed, notes removed, `@@` read
    cues: tuple[Cue, ...]
    span: Span  # the line


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
    voice: Voice | None = None


@dataclass(frozen=True, slots=True)
class After:
    """`FIRST FRAME after SCENE` (language 1.1 §4): the last frame of another scene's clip,
    filled in by `run`. Which scene it names is resolved by `shotc.language.continuity`."""

    name: str  # the scene's title or id as written (notes removed, white space collapsed)
    span: Span  # the name


@dataclass(frozen=True, slots=True)
class Frame:
    which: str  # "first" or "last"
    reference: Reference | After
    span: Span  # the line


@dataclass(frozen=True, slots=True)
class Include:
    path: str
    span: Span  # the line


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A dialogue line (language 1.1 §3); its spoken text is the paragraph's text."""

    speaker: str  # the cue as written (`@name`) or the character name, white space collapsed
    cue: Cue | None  # the speaker's cue, when the speaker is one
    tone: str | None  # `voice-over`, `off screen`, the parenthetical as written, or None
    words: int  # runs of letters or digits in the spoken text (W507)
    span: Span  # the dialogue line


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of a shot's prompt: prose, or a dialogue line's spoken text."""

    text: str
    cues: tuple[Cue, ...]  # in prompt order (for dialogue: speaker, tone, then text)
    dialogue: Dialogue | None = None


@dataclass(frozen=True, slots=True)
class Shot:
    seconds: int | None  # None when the duration is bad (E102)
    prompt: str  # the prompt with no voices (what a shot without dialogue sends)
    cues: tuple[Cue, ...]
    span: Span  # the SHOT line
    paragraphs: tuple[Paragraph, ...] = ()
    unclosed_note: bool = False  # it ended inside a `[[` note (E103)

    @property
    def has_dialogue(self) -> bool:
        return any(p.dialogue is not None for p in self.paragraphs)


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
