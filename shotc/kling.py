"""The ground floor's facts about Kling 3.0 and about the text shotc reads: one home for each.

kie.ai's limits for a `kling-3.0/video` createTask request, the media types each place takes,
and the lexical patterns (cues, durations, URLs, white space, control characters) that the
compiler (`shotc.language`), the request rules (`shotc.request.rules`), the writer tools and the
JSON Schema share. The schema (`shotc/request/request.schema.json`) restates the numbers, as a
published schema must; tests/test_schema.py checks that it agrees with this module.
"""

from __future__ import annotations

import re

# -- limits (kie-api.md) --------------------------------------------------------------------

MIN_TOTAL, MAX_TOTAL = 3, 15  # seconds of a request (its `duration`, or the shots' sum)
MIN_SHOT, MAX_SHOT = 1, 12  # seconds of one shot of a multi-shot request
MAX_SHOTS = 5  # shots in a multi-shot request
MAX_ELEMENTS = 3  # kling_elements per request
MIN_ELEMENT_IMAGES, MAX_ELEMENT_IMAGES = 2, 4  # images of an image element
ELEMENT_VIDEOS = 1  # videos of a video element
MAX_FRAMES = 2  # image_urls: [first] or [first, last]; multi-shot takes the first only
MAX_SINGLE_PROMPT = 2500  # characters of a single-shot prompt (upstream Kling's limit)
MAX_MULTI_PROMPT = 500  # characters of one shot's prompt, each cue counted CUE_WEIGHT
CUE_WEIGHT = 37  # kie.ai counts each `@element` cue as this many characters
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # an uploaded image (10 MiB)
MODES = ("std", "pro", "4K")
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
DEFAULT_DURATION = 5  # what kie.ai assumes when `duration` is absent

# -- media types ----------------------------------------------------------------------------

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov"})

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def extension(target: str) -> str:
    """The lower-cased extension, dot included ("" for none), of a URI's path (query and
    fragment ignored) or of a local path. A leading dot names a hidden file, not an extension."""
    rest = target
    scheme = _SCHEME.match(target)
    if scheme is not None:
        rest = target[scheme.end() :].split("#", 1)[0].split("?", 1)[0]
        if rest.startswith("//"):
            rest = rest[2:]
            rest = rest[rest.index("/") :] if "/" in rest else ""  # drop the authority
    name = rest.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def media_kind(ext: str) -> str | None:
    """ "image" or "video" for an extension from `extension`, None for any other."""
    if ext in IMAGE_EXTENSIONS:
        return "image"
    return "video" if ext in VIDEO_EXTENSIONS else None


# -- lexical patterns -----------------------------------------------------------------------

NAME_CHARS = "A-Za-z0-9_-"  # an element's name, as cued (`@name`) and as sent
NAME = re.compile(f"[{NAME_CHARS}]+")
# In a request every `@` followed by name characters is a cue (`@@` escapes exist only in
# .shot source, which sends them as one literal `@`).
CUE = re.compile(f"@([{NAME_CHARS}]+)")
DURATION = re.compile(r"([0-9]+)\s*[sS]?")  # `SHOT 5s`, `5 s`, `5`
HTTP_URL = re.compile(r"(?i:https?)://")  # at the start of a reference token
SPACE = re.compile(r"\s")
# Characters no script may hold (E100): C0 controls but tab, line feed and carriage return,
# DEL, and the C1 controls. A request string holding one cannot come from a script.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
# The schema's `uri` format as shotc defines it: a scheme, a colon, then no white space or
# control characters (lenient, so a URL copied from a browser passes).
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f]+")


def is_uri(value: str) -> bool:
    return URI.fullmatch(value) is not None


def first_control(text: str) -> str | None:
    """The first character of `text` that no script may hold (E100), or None."""
    found = CONTROL.search(text)
    return found.group() if found else None
