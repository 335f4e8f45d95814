"""Stage "JSON Schema validation", part two: the Kling rules a JSON Schema cannot express.

Checked on a request dict after the schema (`validate_all` runs both): the duration is the sum
of the shots (E301; kie's own multi-shot example says "5" for 3 + 3, and the sum is the safe
reading), each `@cue` counts 37 characters toward a shot's 500 (E306), every cue names an
element of the request (E201), media URLs have a type their place accepts (E402), no text
holds a control character a script cannot hold (E100, so `decompile` never writes what fails
to build), and the
warnings kie.ai's docs call for. Each rule looks only at the parts it needs and skips any part
whose structure is unsound (the schema reports those), so no JSON input makes it raise.
A continuity placeholder (`shotc://after/<scene-id>`, `shotc.request.placeholder`) gets a
note as a first frame (`run` fills it in) and an error anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping

from shotc.diagnostics import Diagnostic, Problems
from shotc.kling import CUE as _CUE
from shotc.kling import CUE_WEIGHT as CUE_LENGTH
from shotc.kling import DEFAULT_DURATION as _DEFAULT_DURATION
from shotc.kling import (
    ELEMENT_VIDEOS,
    MAX_ELEMENT_IMAGES,
    MAX_ELEMENTS,
    MAX_TOTAL,
    MIN_ELEMENT_IMAGES,
    MIN_TOTAL,
    extension,
    first_control,
    media_kind,
)
from shotc.kling import MAX_MULTI_PROMPT as MULTI_SHOT_PROMPT_MAX
from shotc.kling import NAME as _NAME
from shotc.request import placeholder
from shotc.request.validation import sort_violations, validate_request


def validate_all(request: object) -> list[Diagnostic]:
    """Schema violations and Kling-rule findings (warnings included), sorted by path."""
    found = validate_request(request)
    if isinstance(request, Mapping):
        seen = {(v.path, v.code) for v in found}
        # A rule restating a schema error at the same place adds nothing.
        found += [v for v in check_request_rules(request) if (v.path, v.code) not in seen]
    return sort_violations(found)


def check_request_rules(request: Mapping[str, object]) -> list[Diagnostic]:
    """The Kling rules on a request dict; parts with an unsound structure are skipped."""
    inp = request.get("input")
    if not isinstance(inp, Mapping):
        return []
    out = Problems()
    multi = inp.get("multi_shots") is True
    shots = _shots(inp.get("multi_prompt"))
    elements = _elements(inp.get("kling_elements"))
    _durations(inp, shots, multi, out)
    _prompts(inp, shots, out)
    _cues(inp, shots, elements, out)
    _element_rules(elements, out)
    _media(inp, elements, out)
    _frames(inp, elements, multi, out)
    out += placeholder.findings(inp)
    if multi and inp.get("sound") is False:
        out.add(
            "W502",
            "sound is false in a multi-shot request: kie.ai generates multi-shot "
            "video with sound (a client author saw it reject false)",
            "input.sound",
        )
    return sort_violations(out)


def _whole(value: object) -> int | None:
    """A JSON integer (3 or 3.0, never true) as an int."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _shots(value: object) -> list[tuple[int, Mapping[str, object]]]:
    if not isinstance(value, list):
        return []
    return [(i, shot) for i, shot in enumerate(value) if isinstance(shot, Mapping)]


def _elements(value: object) -> list[tuple[int, Mapping[str, object]]]:
    return _shots(value)


def _durations(
    inp: Mapping[str, object],
    shots: list[tuple[int, Mapping[str, object]]],
    multi: bool,
    out: Problems,
) -> None:
    listed = inp.get("multi_prompt")  # a list whenever `shots` has any
    if not multi or not shots or not isinstance(listed, list) or len(shots) != len(listed):
        return
    seconds = [_whole(shot.get("duration")) for _, shot in shots]
    if any(s is None for s in seconds):
        return
    total = sum(s for s in seconds if s is not None)
    parts = " + ".join(str(s) for s in seconds)
    if not MIN_TOTAL <= total <= MAX_TOTAL:
        out.add(
            "E301",
            f"the shots total {total} s ({parts}); a request must total "
            f"{MIN_TOTAL} to {MAX_TOTAL} s",
            "input.multi_prompt",
        )
    duration = inp.get("duration")
    if duration is None and total != _DEFAULT_DURATION:
        out.add(
            "E301",
            f'duration is absent, so kie.ai assumes "5", but the shots '
            f'total {total} s ({parts}); send "{total}"',
            "input.duration",
        )
    elif isinstance(duration, str) and duration != str(total):
        out.add(
            "E301",
            f"duration is {duration!r} but the shots total {total} s "
            f'({parts}); send "{total}" (kie.ai\'s docs do not say which wins, so shotc '
            "requires them to agree)",
            "input.duration",
        )


def _cue_count_length(prompt: str) -> int:
    cues = _CUE.findall(prompt)
    return len(prompt) - sum(1 + len(c) for c in cues) + CUE_LENGTH * len(cues)


def _prompts(
    inp: Mapping[str, object],
    shots: list[tuple[int, Mapping[str, object]]],
    out: Problems,
) -> None:
    prompt = inp.get("prompt")
    if isinstance(prompt, str) and prompt and not prompt.strip():
        out.add("E311", "the prompt is only white space", "input.prompt")
    _control("input.prompt", prompt, out)
    for i, shot in shots:
        text = shot.get("prompt")
        if not isinstance(text, str):
            continue
        path = f"input.multi_prompt[{i}].prompt"
        _control(path, text, out)
        if text and not text.strip():
            out.add("E311", "the shot's prompt is only white space", path)
        counted = _cue_count_length(text)
        if counted > MULTI_SHOT_PROMPT_MAX:
            out.add(
                "E306",
                f"counts {counted} characters with each @cue as {CUE_LENGTH}; at most "
                f"{MULTI_SHOT_PROMPT_MAX} are allowed",
                path,
            )


def _control(path: str, text: object, out: Problems) -> None:
    """E100, as in a script: a control character (C0 but tab and line breaks, DEL, C1) in
    text that a script would have written, which no script can hold."""
    char = first_control(text) if isinstance(text, str) else None
    if char is not None:
        out.add(
            "E100",
            f"holds control character U+{ord(char):04X}; a .shot script cannot say it "
            "(the compiler refuses it as E100), and kie.ai's behaviour with it is unknown",
            path,
        )


def _cues(
    inp: Mapping[str, object],
    shots: list[tuple[int, Mapping[str, object]]],
    elements: list[tuple[int, Mapping[str, object]]],
    out: Problems,
) -> None:
    raw = inp.get("kling_elements")
    if raw is not None and not isinstance(raw, list):
        return  # no sound list of names to check cues against
    names = [name for _, e in elements if isinstance(name := e.get("name"), str)]
    texts: list[tuple[str, str]] = []
    if isinstance(prompt := inp.get("prompt"), str):
        texts.append(("input.prompt", prompt))
    texts += [
        (f"input.multi_prompt[{i}].prompt", text)
        for i, s in shots
        if isinstance(text := s.get("prompt"), str)
    ]
    cued: set[str] = set()
    for path, text in texts:
        for name in dict.fromkeys(_CUE.findall(text)):
            cued.add(name)
            if name not in names:
                out.add("E201", _unknown_cue(name, names), path)
    for i, element in elements:
        name = element.get("name")
        if isinstance(name, str) and name not in cued:
            out.add(
                "W501",
                f"element `{name}` is never cued (@{name}) in the prompts",
                f"input.kling_elements[{i}]",
            )


def _unknown_cue(name: str, names: list[str]) -> str:
    message = f"@{name} names no element in kling_elements"
    if not names:
        return message + " (there are none; a literal @ before letters reads as a cue)"
    from difflib import get_close_matches

    close = get_close_matches(name, names, n=1)
    return message + (f" (did you mean @{close[0]}?)" if close else "")


def _element_rules(elements: list[tuple[int, Mapping[str, object]]], out: Problems) -> None:
    if len(elements) > MAX_ELEMENTS:
        out.add(
            "E304",
            f"{len(elements)} elements; at most {MAX_ELEMENTS} per request",
            "input.kling_elements",
        )
    first: dict[str, int] = {}
    for i, element in elements:
        path = f"input.kling_elements[{i}]"
        name = element.get("name")
        if isinstance(name, str):
            if not _NAME.fullmatch(name):
                out.add(
                    "E203",
                    f"{name!r} is not a valid element name (letters, digits, _ and - only)",
                    path + ".name",
                )
            if name in first:
                out.add(
                    "E202",
                    f"element `{name}` is already defined at input.kling_elements[{first[name]}]",
                    path + ".name",
                )
            first.setdefault(name, i)
        description = element.get("description")
        if isinstance(description, str) and description and not description.strip():
            out.add("E204", "the description is only white space", path + ".description")
        _control(path + ".description", description, out)
        images = element.get("element_input_urls")
        videos = element.get("element_input_video_urls")
        if isinstance(images, list) and isinstance(videos, list):
            out.add(
                "E305",
                "an element has either element_input_urls (2 to 4 images) or "
                "element_input_video_urls (1 video), not both",
                path,
            )
        elif isinstance(images, list) and not (
            MIN_ELEMENT_IMAGES <= len(images) <= MAX_ELEMENT_IMAGES
        ):
            out.add(
                "E305",
                f"{len(images)} image(s); an element takes 2 to 4",
                path + ".element_input_urls",
            )
        elif isinstance(videos, list) and len(videos) != ELEMENT_VIDEOS:
            out.add(
                "E305",
                f"{len(videos)} video(s); an element takes exactly 1",
                path + ".element_input_video_urls",
            )
        if isinstance(videos, list):
            out.add(
                "W504",
                "video elements were in kie.ai's Feb 2026 "
                "docs and are gone from the Apr 2026 ones; they may stop working",
                path + ".element_input_video_urls",
            )


def _media_problem(url: str, kind: str) -> str | None:
    ext = extension(url)
    if not ext:
        return None  # kie.ai fetches it; the place says what kind it must be
    if media_kind(ext) == kind:
        return None
    wanted = ".jpg, .jpeg or .png" if kind == "image" else ".mp4 or .mov"
    return f"`{ext}` is not a supported {kind} type here ({wanted})"


def _media(
    inp: Mapping[str, object],
    elements: list[tuple[int, Mapping[str, object]]],
    out: Problems,
) -> None:
    lists: list[tuple[str, object, str]] = [("input.image_urls", inp.get("image_urls"), "image")]
    for i, element in elements:
        base = f"input.kling_elements[{i}]"
        lists.append((base + ".element_input_urls", element.get("element_input_urls"), "image"))
        lists.append(
            (base + ".element_input_video_urls", element.get("element_input_video_urls"), "video")
        )
    for path, urls, kind in lists:
        if not isinstance(urls, list):
            continue
        for j, url in enumerate(urls):
            problem = _media_problem(url, kind) if isinstance(url, str) else None
            if problem:
                out.add("E402", problem, f"{path}[{j}]")


def _frames(
    inp: Mapping[str, object],
    elements: list[tuple[int, Mapping[str, object]]],
    multi: bool,
    out: Problems,
) -> None:
    frames = inp.get("image_urls")
    if multi and isinstance(frames, list) and len(frames) == 2:
        out.add(
            "E307",
            "a multi-shot request takes the first frame only (1 image URL), not 2",
            "input.image_urls",
        )
    if elements and "image_urls" not in inp:
        out.add(
            "W503",
            "the prompts use elements but there is no first frame; "
            "kie.ai's English docs ask for image_urls when elements are referenced",
            "input.image_urls",
        )
