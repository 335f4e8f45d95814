"""The createTask request as a type: the JSON body shotc emits for kie.ai's Kling 3.0 model,
key for key as `request.schema.json` declares it (language.md §8). The schema stays the
authority on values (patterns, lengths, enums, which keys go together); these types say which
keys exist and what kind of value each holds, so that mypy checks the code that writes and
reads requests. A key the schema does not require, or that shotc emits only sometimes, is
`NotRequired`.

Code that reads a dict it did not make (a user's JSON for `validate` or `decompile`) takes a
`Mapping[str, object]` and checks every value, never one of these types."""

# No `from __future__ import annotations`: the TypedDicts' required and optional keys are
# read from evaluated annotations (tests/test_schema.py compares them with the schema).
from typing import NotRequired, TypedDict


class MultiShot(TypedDict):
    """One shot of a multi-shot request: its prompt, and its seconds as an integer."""

    prompt: str
    duration: int


class KlingElement(TypedDict):
    """An element the prompts cue as `@name`: 2 to 4 images or exactly 1 video."""

    name: str
    description: str
    element_input_urls: NotRequired[list[str]]
    element_input_video_urls: NotRequired[list[str]]


class RequestInput(TypedDict):
    """The generation parameters (the request's `input`). `duration` is a string ("3" to
    "15"); shotc always writes sound, duration, mode and multi_shots, kie.ai has defaults."""

    prompt: NotRequired[str]
    image_urls: NotRequired[list[str]]
    sound: NotRequired[bool]
    duration: NotRequired[str]
    aspect_ratio: NotRequired[str]
    mode: NotRequired[str]
    multi_shots: NotRequired[bool]
    multi_prompt: NotRequired[list[MultiShot]]
    kling_elements: NotRequired[list[KlingElement]]


class CreateTaskRequest(TypedDict):
    """The body of POST /api/v1/jobs/createTask for kling-3.0/video."""

    model: str
    callBackUrl: NotRequired[str]  # kie.ai's spelling
    input: RequestInput
