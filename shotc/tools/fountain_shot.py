"""Writes a `.shot` skeleton from a parsed Fountain screenplay (`shotc import fountain`).

The mapping (docs/editors.md is the user's copy):
- the title page's `Title` becomes `Title:`; its other keys become comments;
- every character who speaks becomes a commented `# ELEMENT @name: NAME` stub;
- a scene heading becomes `SCENE`; action before the first heading goes to a scene `Opening`;
- each action paragraph starts a shot; a dialogue block is spoken in the shot before it when
  that shot has no dialogue yet, else it opens a shot of its own (dual dialogue `^` joins the
  shot of its partner); a paragraph of notes joins the shot it stands in, and becomes
  comments where no shot has any prose for it to join (a shot of notes alone is E311);
- a shot lasts a placeholder 5 s, longer when its spoken words need it at 3 words a second
  (at most 12 s); a Fountain scene is split into parts (`INT. X - DAY, part 2`) so that no
  scene runs over 15 s or 5 shots, and a shot too long for a multi-shot prompt gets a scene
  of its own; so the skeleton checks clean and every scene is one paid clip you can see;
- dialogue becomes a dialogue line (language 1.1 §3) `NAME (tone): "text"`: a `(V.O.)`,
  `(O.S.)` or `(O.C.)` extension is the tone, else the first parenthetical, else another
  extension; `(CONT'D)` is dropped; further parentheticals stay in the text as `[[notes]]`;
- transitions, centered text, sections, synopses and boneyard become comments.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from shotc.kling import MAX_MULTI_PROMPT, MAX_SHOT, MAX_SHOTS, MAX_TOTAL
from shotc.language.checks import slugify
from shotc.language.lexer import LineKind, classify
from shotc.tools.fountain import (
    Action,
    Boneyard,
    Centered,
    Dialogue,
    Heading,
    Screenplay,
    Section,
    Synopsis,
    Transition,
)

PLACEHOLDER_SECONDS = 5
# Language 1.1 §3 (W507): more spoken words than this per second of a shot are rushed.
WORDS_PER_SECOND = 3
OPENING = "Opening"
_VOICE = re.compile(r"(?i)^(v\.?o\.?|o\.?s\.?|o\.?c\.?)$")
_CONTD = re.compile(r"(?i)^cont[’']?d\.?$")
_PROSE_KINDS = frozenset({LineKind.PROSE, LineKind.SETTING, LineKind.BLANK})
_WRONG_CASE = re.compile(r"(?i)(scene|shot|element|include|first\s+frame|last\s+frame)(?=\s|$)")
_DIALOGUE_SHAPE = re.compile(r"[^:\"“]{1,80}:\s*[\"“]")
_CUE_AT = re.compile(r"@(?=[A-Za-z0-9_-])")
_WORD = re.compile(r"[^\W_]+")
_SPEAKER_EXTRA = "'’.-"


@dataclass(slots=True)
class _Shot:
    paragraphs: list[list[str]] = field(default_factory=list)
    words: int = 0
    dialogues: int = 0
    has_action: bool = False

    @property
    def chars(self) -> int:
        return sum(len(line) + 1 for paragraph in self.paragraphs for line in paragraph)

    @property
    def seconds(self) -> int:
        needed = math.ceil(self.words / WORDS_PER_SECOND)
        return min(MAX_SHOT, max(PLACEHOLDER_SECONDS, needed))


@dataclass(slots=True)
class _Scene:
    title: str
    entries: list[_Shot | list[str]] = field(default_factory=list)  # shots and comment lines


def _comment(text: str) -> str:
    return f"# {text}".rstrip()


def _prose(line: str) -> str:
    """An action line as a prose line that no `.shot` rule reads as anything else."""
    text = _CUE_AT.sub("@ ", line.strip())
    kind = classify(text, 1)
    if (
        kind is None
        or kind.kind not in _PROSE_KINDS
        or text.startswith("!")
        or _WRONG_CASE.match(text)
        or _DIALOGUE_SHAPE.match(text)
    ):
        return "!" + text
    return text


def _close_notes(lines: list[str]) -> list[str]:
    """A `[[` that Fountain leaves open in its paragraph is text: written `[ [` so that `.shot`
    does not read the next paragraphs as a note."""
    text = "\n".join(lines)
    out, position = [], 0
    while (opened := text.find("[[", position)) >= 0:
        closed = text.find("]]", opened + 2)
        if closed < 0:
            out.append(text[position:opened] + "[ [")
            position = opened + 2
            continue
        out.append(text[position : closed + 2])
        position = closed + 2
    out.append(text[position:])
    return "".join(out).split("\n")


def _without_notes(text: str) -> str:
    """`text` with its (closed) `[[notes]]` removed, trimmed."""
    return re.sub(r"\[\[.*?\]\]", "", text, flags=re.S).strip()


def _as_note(text: str) -> str:
    """A parenthetical as a `[[note]]` that ends where it does (its own brackets broken)."""
    return "[[" + text.replace("[[", "[ [").replace("]]", "] ]") + "]]"


def speaker(name: str) -> str | None:
    """A character's name as a language 1.1 speaker (one to three upper-case words), or None."""
    words = [
        "".join(c for c in word if c.isupper() or c.isdigit() or c in _SPEAKER_EXTRA)
        for word in name.upper().split()
    ]
    words = [word for word in words if word]
    if len(words) > 3:
        words = ["-".join(words)]
    if not words or not words[0][0].isalpha():
        return None
    return " ".join(words)


def _element_name(name: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "character"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _dialogue_line(block: Dialogue) -> tuple[str, int]:
    """The `.shot` line for a dialogue block and the number of its spoken words."""
    extensions = [ext for ext in block.extensions if not _CONTD.match(ext)]
    voices = [ext for ext in extensions if _VOICE.match(ext)]
    others = [ext for ext in extensions if not _VOICE.match(ext)]
    parts = list(block.parts)
    tone: str | None = None
    if voices:
        tone = voices[0]
    elif parts and parts[0][0] == "paren":
        tone = parts.pop(0)[1]
    elif others:
        tone = others.pop(0)
    asides = [*voices[1:], *others]
    pieces = [_as_note(aside) for aside in asides]
    spoken: list[str] = []  # the spoken text, notes removed: what the speaker says
    for kind, text in parts:
        if kind == "paren":
            pieces.append(_as_note(text))
            continue
        # a `[[` this speech leaves open would make the asides after it part of a note
        (text,) = _close_notes([_CUE_AT.sub("@ ", text)])
        pieces.append(text)
        if said := _without_notes(text):
            spoken.append(said)
    text = " ".join(pieces).strip()
    words = len(_WORD.findall(" ".join(spoken)))
    name = speaker(block.character)
    paren = f" ({tone})" if tone else ""
    if not spoken:  # a character who only acts: `MARA (nods)`, as prose
        return _prose(f"{block.character}{paren} {text}".strip()), 0
    if name is None:  # no speaker can be made of the name: the line stays prose, as written
        return "!" + f'{block.character}{paren}: "{text}"', words
    return f'{name}{paren}: "{text}"', words


class _Writer:
    def __init__(self) -> None:
        self.preamble: list[str] = []  # comments before the first scene
        self.scenes: list[_Scene] = []
        self.cast: dict[str, str] = {}  # speaker -> element name
        self._taken: set[str] = set()

    def _scene(self) -> _Scene:
        if not self.scenes:
            self.scenes.append(_Scene(OPENING))
        return self.scenes[-1]

    def _current(self) -> _Shot | None:
        if not self.scenes:
            return None
        entries = self.scenes[-1].entries
        return entries[-1] if entries and isinstance(entries[-1], _Shot) else None

    def comment(self, lines: list[str]) -> None:
        target = self.scenes[-1].entries if self.scenes else None
        if target is None:
            self.preamble.extend(lines)
        else:
            target.append(lines)

    def action(self, lines: tuple[str, ...]) -> None:
        paragraph = _close_notes([_prose(line) for line in lines if line.strip()])
        notes_only = not _without_notes(" ".join(paragraph))
        current = self._current()
        if current is not None and (
            notes_only or (not current.has_action and not current.dialogues)
        ):
            current.paragraphs.append(paragraph)
            current.has_action = current.has_action or not notes_only
            return
        shot = _Shot([paragraph], has_action=not notes_only)
        self._scene().entries.append(shot)

    def dialogue(self, block: Dialogue) -> None:
        line, words = _dialogue_line(block)
        (line,) = _close_notes([line])
        if not words:
            self.action((line,))
            return
        name = speaker(block.character)
        if name is not None and name not in self.cast and words:
            self.cast[name] = _element_name(name, self._taken)
        current = self._current()
        fits = current is not None and current.chars + len(line) <= MAX_MULTI_PROMPT
        if current is not None and fits and (not current.dialogues or block.dual):
            dual = ["# dual dialogue: spoken at the same time as the line above"]
            current.paragraphs.append([*dual, line] if block.dual else [line])
        else:
            current = _Shot([[line]])
            self._scene().entries.append(current)
        current.words += words
        current.dialogues += 1

    def add(self, play: Screenplay) -> None:
        for element in play.elements:
            if isinstance(element, Heading):
                self.scenes.append(_Scene(element.text))
            elif isinstance(element, Action):
                self.action(element.lines)
            elif isinstance(element, Dialogue):
                self.dialogue(element)
            elif isinstance(element, Transition):
                self.comment([_comment(element.text)])
            elif isinstance(element, Centered):
                self.comment([_comment(f"> {element.text} <")])
            elif isinstance(element, Section):
                self.comment([_comment("#" * element.depth + " " + element.text)])
            elif isinstance(element, Synopsis):
                self.comment([_comment("= " + element.text)])
            elif isinstance(element, Boneyard):
                lines = [line.strip() for line in element.lines]
                lines[0], lines[-1] = "/* " + lines[0], lines[-1] + " */"
                self.comment([_comment(line) for line in lines])


def _parts(scene: _Scene) -> list[list[_Shot | list[str]]]:
    """A scene's entries split so that each part is one valid clip (see the module doc)."""
    parts: list[list[_Shot | list[str]]] = [[]]
    total = count = 0
    long_part = False
    for entry in scene.entries:
        if isinstance(entry, _Shot):
            long_shot = entry.chars > MAX_MULTI_PROMPT
            if count and (
                total + entry.seconds > MAX_TOTAL or count >= MAX_SHOTS or long_shot or long_part
            ):
                parts.append([])
                total = count = 0
            total, count, long_part = total + entry.seconds, count + 1, long_shot
        parts[-1].append(entry)
    return parts


def _notes_as_comments(scene: _Scene) -> None:
    """Each shot left with notes and nothing else (a paragraph of notes before a heading, or
    alone in its scene) made comments: a shot without prose is E311, and a note is for the
    writer as a comment is."""
    for index, entry in enumerate(scene.entries):
        if isinstance(entry, _Shot) and not entry.has_action and not entry.dialogues:
            scene.entries[index] = [_comment(line) for part in entry.paragraphs for line in part]


def to_shot(play: Screenplay, source_name: str) -> str:
    """The `.shot` text for a parsed screenplay read from `source_name`."""
    writer = _Writer()
    writer.add(play)
    for scene in writer.scenes:
        _notes_as_comments(scene)
    out = [
        f"# Imported from {source_name} by `shotc import fountain`: a skeleton to refine.",
        f"# Every shot lasts a placeholder {PLACEHOLDER_SECONDS} s (more where its dialogue needs"
        f" it);",
        f"# a long scene is split into parts of at most {MAX_TOTAL} s, each one clip.",
    ]
    for title_entry in play.title_page:
        # a `[[` left open would be a note running to the first SCENE line (E103)
        (value,) = _close_notes([title_entry.value])
        if title_entry.key.lower() == "title" and _without_notes(value):
            out.append(f"Title: {value}")
        else:  # a title of notes alone would be an empty setting (E207)
            out.append(_comment(f"{title_entry.key}: {title_entry.value}"))
    if writer.cast:
        out += ["", "# Cast: uncomment an ELEMENT, describe the character, add 2 to 4 reference"]
        out.append('# images, then cue @name in its shots (as the speaker too: @name: "...").')
        out += [f"# ELEMENT @{element}: {name}" for name, element in writer.cast.items()]
    if writer.preamble:
        out += ["", *writer.preamble]
    used: set[str] = set()
    for scene in writer.scenes:
        for number, part in enumerate(_parts(scene), start=1):
            shots = [entry for entry in part if isinstance(entry, _Shot)]
            title = scene.title if number == 1 else f"{scene.title}, part {number}"
            if not shots:
                out += ["", _comment(f"SCENE {title} (nothing to shoot)")] if number == 1 else []
                out += [line for entry in part if isinstance(entry, list) for line in entry]
                continue
            title = _unique(title, used)
            out += ["", f"SCENE {title}"]
            for entry in part:
                if isinstance(entry, list):
                    out += ["", *entry]
                    continue
                out += ["", f"SHOT {entry.seconds}s"]
                for index, paragraph in enumerate(entry.paragraphs):
                    out += ([""] if index and not paragraph[0].startswith("#") else []) + paragraph
    return "\n".join(out) + "\n"


def _unique(title: str, used: set[str]) -> str:
    candidate, number = title, 2
    while slugify(candidate, len(used) + 1) in used:
        candidate, number = f"{title} ({number})", number + 1
    used.add(slugify(candidate, len(used) + 1))
    return candidate
