"""Media references (semantic stage helpers): what a reference token is (URL or local path),
its kind (image or video, by extension and prefix), and local paths as `file://` URIs."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from shotc.diagnostics import Span
from shotc.language.lexer import Line, split_prefix
from shotc.language.syntax import Reference

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov"})
MAX_IMAGE_BYTES = 10 * 1024 * 1024
_URL = re.compile(r"(?i:https?)://")
_SPACE = re.compile(r"\s")


def reference_of(line: Line, file: str) -> Reference | None:
    """The reference a line holds (one token after an optional prefix), or None."""
    body = line.text[line.start : line.end]
    prefix, offset = split_prefix(body)
    token = body[offset:]
    if not token or _SPACE.search(token):
        return None
    column = line.start + offset + 1
    span = Span(file, line.number, column, line.number, line.end + 1)
    return Reference(token, prefix, span)


def is_url(target: str) -> bool:
    return _URL.match(target) is not None


def extension(target: str) -> str:
    """The lower-cased extension of the URL's path (query, fragment ignored) or of the path."""
    path = _url_path(target) if is_url(target) else target
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _url_path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # e.g. an unclosed `[` of an IPv6 host
        return ""


def kind_of(ref: Reference) -> tuple[str | None, str | None]:
    """("image" | "video", None), or (None, why) when the type is unsupported (E402)."""
    if is_url(ref.target):
        try:
            urlsplit(ref.target).hostname  # noqa: B018 - parsing the host validates it
        except ValueError:
            return None, "this URL cannot be parsed (check its host)"
    ext = extension(ref.target)
    if ext in IMAGE_EXTENSIONS:
        kind = "image"
    elif ext in VIDEO_EXTENSIONS:
        kind = "video"
    elif ext:
        return (
            None,
            f"`{ext}` is not a supported media type (images: .jpg .jpeg .png; videos: .mp4 .mov)",
        )
    elif not is_url(ref.target):
        return None, "a local file needs a known extension (.jpg .jpeg .png .mp4 .mov)"
    else:
        kind = ref.prefix or "image"
    if ref.prefix and ref.prefix != kind:
        return None, f"the `{ref.prefix}` prefix contradicts the `{ext}` extension"
    return kind, None


def local_path(ref: Reference, base_dir: Path) -> Path:
    """The local file a non-URL reference names, relative to the file that names it."""
    target = ref.target
    if target.lower().startswith("file://"):
        from urllib.parse import unquote

        target = unquote(_url_path(target) or target[len("file://") :])
    path = Path(os.path.expanduser(target))
    return path if path.is_absolute() else base_dir / path


def file_uri(path: Path) -> str:
    """An absolute, percent-encoded `file://` URI (RFC 8089)."""
    return Path(os.path.abspath(path)).as_uri()
