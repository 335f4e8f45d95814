"""Writer tooling, the decompile side of dialogue (language 1.1 §3): finds the prompt paragraphs
of exactly the compiled shape `[SPEAKER: VOICE, TONE]: "TEXT"` and turns them back into
dialogue lines, and the voices into the elements' `Voice:` lines.

Every line written is checked by reading it back with the compiler's own rules
(`shotc.language.dialogue`), and a speaker whose paragraphs cannot all be written as dialogue
with one voice keeps them as prose: a paragraph starting with `[` is always prose, so either
way `build(decompile(r)) == r`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shotc.language.dialogue import is_name, render, shape_of, tone_of
from shotc.language.lexer import LineKind, classify
from shotc.language.prose import wrong_case_directive

_CUE = re.compile(r"@[A-Za-z0-9_-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPOKEN_KINDS = frozenset({LineKind.PROSE, LineKind.SETTING})


@dataclass(frozen=True, slots=True)
class Compiled:
    """A paragraph of the compiled shape, split into its parts."""

    speaker: str
    label: str  # what follows the speaker inside the brackets: "", ", TONE" or ": VOICE..."
    text: str


def parse(paragraph: str) -> Compiled | None:
    if not paragraph.startswith("[") or not paragraph.endswith('"'):
        return None
    close = paragraph.find(']: "')
    if close < 0 or close + 4 > len(paragraph) - 1:
        return None
    label, text = paragraph[1:close], paragraph[close + 4 : -1]
    cue = _CUE.match(label)
    if cue is not None:
        speaker = cue.group()
    else:
        end = min((i for i in (label.find(","), label.find(":")) if i >= 0), default=len(label))
        speaker = label[:end]
        if not speaker or not is_name(speaker) or " ".join(speaker.split()) != speaker:
            return None
    return Compiled(speaker, label[len(speaker) :], text)


def _clean(text: str) -> bool:
    return (
        bool(text)
        and " ".join(text.split()) == text
        and "[[" not in text
        and _CONTROL.search(text) is None
    )


def _escape(text: str) -> str:
    out = []
    for i, char in enumerate(text):
        out.append("@@" if char == "@" and text[i + 1 : i + 2] == "@" else char)
    return "".join(out)


def line_for(speaker: str, tone: str | None, text: str) -> str | None:
    """The dialogue line that compiles to this speaker, tone and text, or None."""
    if not _clean(text) or (tone is not None and not _tone_ok(tone)):
        return None
    line = f'{speaker}{f" ({tone})" if tone else ""}: "{_escape(text)}"'
    shape = classify(line, 1)
    if shape is None or shape.kind not in _SPOKEN_KINDS or shape.arg != shape.start:
        return None
    if wrong_case_directive(line, scene_too=False) is not None:
        return None
    found = shape_of(line)
    if found is None or found.speaker != speaker or found.quote != line.index(': "') + 2:
        return None
    written = None if found.paren is None else line[found.paren[0] : found.paren[1]]
    return line if tone_of(written) == tone else None


def _tone_ok(tone: str) -> bool:
    return _clean(tone) and ")" not in tone and "@@" not in tone and tone_of(tone) == tone


def _tone(label: str) -> tuple[bool, str | None]:
    """(ok, tone) of a label without a voice: "" or ", TONE"."""
    if not label:
        return True, None
    if label.startswith(", "):
        return True, label[2:]
    return False, None


def _voice_ok(voice: str) -> bool:
    return _clean(voice) and not voice.startswith("//")


def plan(
    prompts: Sequence[str], banned: frozenset[str] = frozenset()
) -> tuple[dict[str, str], dict[tuple[int, int], str]]:
    """For the prompts of one request: the voice of each speaking element, and the dialogue
    line for each (prompt, paragraph) written as one. Paragraphs left out stay prose, and so
    do those of the `banned` elements."""
    found: dict[str, list[tuple[int, int, Compiled, bool]]] = {}
    for i, prompt in enumerate(prompts):
        speakers: set[str] = set()
        for j, paragraph in enumerate(prompt.split("\n")):
            parsed = parse(paragraph)
            if parsed is not None:
                first = parsed.speaker not in speakers
                speakers.add(parsed.speaker)
                found.setdefault(parsed.speaker, []).append((i, j, parsed, first))
    voices: dict[str, str] = {}
    lines: dict[tuple[int, int], str] = {}
    for speaker, items in found.items():
        if speaker[1:] in banned and speaker.startswith("@"):
            continue
        voice = _voice_for(speaker, items)
        written: dict[tuple[int, int], str] = {}
        for i, j, parsed, first in items:
            label = parsed.label
            if voice is not None and first:
                label = label[len(": " + voice) :]
            ok, tone = _tone(label)
            line = line_for(speaker, tone, parsed.text) if ok else None
            if line is None or render(speaker, voice if first else None, tone, parsed.text) != (
                f"[{speaker}{parsed.label}]: " + f'"{parsed.text}"'
            ):
                break
            written[(i, j)] = line
        else:
            lines.update(written)
            if voice is not None:
                voices[speaker[1:]] = voice
    return voices, lines


def _voice_for(speaker: str, items: list[tuple[int, int, Compiled, bool]]) -> str | None:
    """The one voice every first line of `speaker` carries (None: no voice at all)."""
    firsts = [parsed.label for _i, _j, parsed, first in items if first]
    voiced = [label[2:] for label in firsts if label.startswith(": ")]
    if not voiced or not speaker.startswith("@"):
        return None
    part = voiced[0]
    cuts = [m.start() for m in re.finditer(", ", part)]
    for candidate in [part, *(part[:cut] for cut in reversed(cuts))]:
        if _voice_ok(candidate) and all(
            label == ": " + candidate or label.startswith(": " + candidate + ", ")
            for label in firsts
        ):
            return candidate
    return None
