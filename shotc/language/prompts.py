"""Semantic stage, prompts with dialogue (language 1.1 §3): composes each shot's prompt with
the speaking elements' voices, decides what `input.sound` sends for a scene with dialogue,
and warns about silent (W506) or rushed (W507) dialogue."""

from __future__ import annotations

from shotc.diagnostics import Problems
from shotc.language.dialogue import render
from shotc.language.settings import Value
from shotc.language.syntax import Cue, Scene, Shot, Voice

WORDS_PER_SECOND = 3  # faster dialogue is rushed or cut (W507)


def compose(shot: Shot, voices: dict[str, Voice]) -> tuple[str, tuple[Cue, ...]]:
    """A shot's prompt and its cues in prompt order, with each speaking element's voice on
    its first dialogue line of the prompt (language 1.1 §3)."""
    if not voices or not shot.has_dialogue:
        return shot.prompt, shot.cues
    parts: list[str] = []
    cues: list[Cue] = []
    voiced: set[str] = set()
    for paragraph in shot.paragraphs:
        speech = paragraph.dialogue
        if speech is None:
            parts.append(paragraph.text)
            cues += paragraph.cues
            continue
        voice = None
        if speech.cue is not None and speech.cue.name not in voiced:
            voiced.add(speech.cue.name)
            voice = voices.get(speech.cue.name)
        if voice is None:
            cues += paragraph.cues
        else:
            # the voice stands right after the speaker's cue in the prompt
            cues += (paragraph.cues[0], *voice.cues, *paragraph.cues[1:])
        text = voice.text if voice is not None else None
        parts.append(render(speech.speaker, text, speech.tone, paragraph.text))
    return "\n".join(parts), tuple(cues)


def sound_sent(scene: Scene, multi: bool, sound: Value | None, diags: Problems) -> bool:
    """What `input.sound` sends; W506 for silent dialogue, W507 for rushed dialogue."""
    first = None
    for shot in scene.shots:
        lines = [p.dialogue for p in shot.paragraphs if p.dialogue is not None]
        if not lines:
            continue
        first = first or lines[0]
        words = sum(line.words for line in lines)
        if shot.seconds is not None and words > WORDS_PER_SECOND * shot.seconds:
            diags.add(
                "W507",
                f"{words} spoken words in a {shot.seconds} s shot: the line will be rushed or cut",
                lines[0].span,
                f"at most about {WORDS_PER_SECOND * shot.seconds} words fit; shorten the "
                "line or lengthen the shot",
            )
    if sound is None:
        return multi or first is not None
    if first is not None and sound.value is False:
        diags.add(
            "W506",
            "dialogue in a scene sent without sound is not spoken",
            first.span,
            f"`Sound: off` is set on line {sound.setting.span.line}; remove it to send sound",
        )
    return bool(sound.value)
