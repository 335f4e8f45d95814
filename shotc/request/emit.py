"""Stage 5: the emitter. Turns a checked scene into its createTask request dict, keys in the
documented order (language.md §8), absent keys omitted."""

from __future__ import annotations

from typing import Any

from shotc.language.checks import ResolvedScene

MODEL = "kling-3.0/video"


def request_for(resolved: ResolvedScene) -> dict[str, Any]:
    scene, settings = resolved.scene, resolved.settings
    shots = scene.shots
    multi = len(shots) > 1
    seconds = sum(shot.seconds or 0 for shot in shots)
    request: dict[str, Any] = {"model": MODEL}
    if "callback" in settings:
        request["callBackUrl"] = settings["callback"].value
    body: dict[str, Any] = {}
    if not multi:
        body["prompt"] = shots[0].prompt
    if resolved.frames:
        body["image_urls"] = list(resolved.frames)
    sound = settings.get("sound")
    body["sound"] = multi if sound is None else bool(sound.value)
    body["duration"] = str(seconds)
    if "aspect" in settings:
        body["aspect_ratio"] = settings["aspect"].value
    elif not resolved.frames:
        body["aspect_ratio"] = "16:9"
    mode = settings.get("mode")
    body["mode"] = mode.value if mode is not None else "pro"
    body["multi_shots"] = multi
    if multi:
        body["multi_prompt"] = [{"prompt": s.prompt, "duration": s.seconds} for s in shots]
    if resolved.elements:
        elements = []
        for element in resolved.elements:
            key = "element_input_urls" if element.kind == "image" else "element_input_video_urls"
            elements.append(
                {"name": element.name, "description": element.description, key: list(element.urls)}
            )
        body["kling_elements"] = elements
    request["input"] = body
    return request
