"""Stage 5: the emitter. Turns a checked scene into its createTask request dict, keys in the
documented order (language.md §8), absent keys omitted."""

from __future__ import annotations

from shotc.language.checks import ResolvedScene
from shotc.language.settings import Value
from shotc.request.types import CreateTaskRequest, KlingElement, RequestInput

MODEL = "kling-3.0/video"


def request_for(resolved: ResolvedScene) -> CreateTaskRequest:
    scene, settings = resolved.scene, resolved.settings
    shots = scene.shots
    multi = len(shots) > 1
    # `or 0` for the type only: check_scene resolves no scene with a bad duration (E102)
    seconds = sum(shot.seconds or 0 for shot in shots)
    body: RequestInput = {}
    if not multi:
        body["prompt"] = resolved.prompts[0]
    if resolved.frames:
        body["image_urls"] = list(resolved.frames)
    body["sound"] = resolved.sound
    body["duration"] = str(seconds)
    if "aspect" in settings:
        body["aspect_ratio"] = _text(settings["aspect"])
    elif not resolved.frames:
        body["aspect_ratio"] = "16:9"
    mode = settings.get("mode")
    body["mode"] = _text(mode) if mode is not None else "pro"
    body["multi_shots"] = multi
    if multi:
        body["multi_prompt"] = [
            {"prompt": prompt, "duration": shot.seconds or 0}
            for shot, prompt in zip(shots, resolved.prompts, strict=True)
        ]
    if resolved.elements:
        elements: list[KlingElement] = []
        for element in resolved.elements:
            made: KlingElement = {"name": element.name, "description": element.description}
            if element.kind == "image":
                made["element_input_urls"] = list(element.urls)
            else:
                made["element_input_video_urls"] = list(element.urls)
            elements.append(made)
        body["kling_elements"] = elements
    if "callback" in settings:  # the documented order: model, callBackUrl, input
        return {"model": MODEL, "callBackUrl": _text(settings["callback"]), "input": body}
    return {"model": MODEL, "input": body}


def _text(value: Value) -> str:
    """A setting whose value is a string (all but `Sound`, the settings stage's contract)."""
    assert isinstance(value.value, str), value
    return value.value
