"""The continuity placeholder (language 1.1 §4): `FIRST FRAME after SCENE` builds to
`shotc://after/<scene-id>` as `image_urls[0]`, which `run` replaces with the URL of the last
frame of that scene's clip. The one home of its spelling: the compiler writes it, `validate`
and `decompile` read it, `run` fills it in."""

from __future__ import annotations

import re
from collections.abc import Mapping

from shotc.diagnostics import Diagnostic, Problems

PREFIX = "shotc://after/"
# a scene id as `slugify` makes it: lower-case ASCII letters and digits, single hyphens inside
_SCENE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def after_url(scene_id: str) -> str:
    return PREFIX + scene_id


def is_placeholder(url: object) -> bool:
    """Whether `url` is in shotc's own scheme (a placeholder, well formed or not)."""
    return isinstance(url, str) and url[:8].lower() == "shotc://"


def source_of(url: object) -> str | None:
    """The scene id a well-formed placeholder names, else None."""
    if not isinstance(url, str) or not url.startswith(PREFIX):
        return None
    scene_id = url[len(PREFIX) :]
    return scene_id if _SCENE_ID.fullmatch(scene_id) else None


def source_of_request(request: object) -> str | None:
    """The scene id a request's first frame comes after, or None."""
    body = request.get("input") if isinstance(request, dict) else None
    frames = body.get("image_urls") if isinstance(body, dict) else None
    if isinstance(frames, list) and frames:
        return source_of(frames[0])
    return None


def findings(inp: Mapping[str, object]) -> list[Diagnostic]:
    """What `validate` says about placeholders in a request's input: a note for a first frame
    that `run` fills in; an error for one elsewhere, or one shotc cannot read."""
    out = Problems()
    places: list[tuple[str, object]] = []
    frames = inp.get("image_urls")
    if isinstance(frames, list):
        places += [(f"input.image_urls[{j}]", url) for j, url in enumerate(frames)]
    elements = inp.get("kling_elements")
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        for key in ("element_input_urls", "element_input_video_urls"):
            urls = element.get(key) if isinstance(element, Mapping) else None
            if isinstance(urls, list):
                places += [(f"input.kling_elements[{i}].{key}[{j}]", u) for j, u in enumerate(urls)]
    for path, url in places:
        if not is_placeholder(url):
            continue
        source = source_of(url)
        if path != "input.image_urls[0]":
            code = "E100" if path.startswith("input.image_urls") else None
            message = f"`{PREFIX}` stands only as the first frame (image_urls[0])"
            out.add(code, message, path)
        elif source is None:
            message = (
                f"not a shotc placeholder: write `{PREFIX}<scene-id>` (a scene id is "
                "lower-case letters and digits joined by `-`)"
            )
            out.add(None, message, path)
        else:
            message = (
                f"a placeholder: `shotc run` fills in the last frame of scene `{source}`'s "
                "clip (FIRST FRAME after); kie.ai itself cannot fetch it"
            )
            out.note(None, message, path)
    return out
