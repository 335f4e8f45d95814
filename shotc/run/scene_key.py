"""Run stage: the scene key, the identity that decides whether a scene was already paid for.

SHA-256 of the canonical request (sorted keys, no insignificant white space) in which every
local medium (`file://` URI) is replaced by `sha256:<content digest>` and `callBackUrl` is
dropped. The take number is not part of it: takes are numbered per key in the ledger. The
upload URL never enters the key, so re-uploading an expired file does not change a scene.

The version key (film.md "Words") is the same digest of the same canonical request without
`input.mode`: a scene's content, whatever mode a take of it was made in. It is computed from
the canonical JSON the ledger already stores, so older rows get theirs without their media.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from shotc.run.errors import LocalIOError

KEY_VERSION = "shotc-scene-key/1"
VERSION_KEY_VERSION = "shotc-version-key/1"
_CHUNK = 1 << 20


def is_local(url: str) -> bool:
    return url.startswith("file:")


def file_uri_path(uri: str) -> Path:
    """The path of a `file://` URI as `shotc.language.media.file_uri` (`Path.as_uri()`) builds it.

    Decoded exactly once, byte-wise: `as_uri` percent-encodes the file system bytes, so a
    name that itself contains `%20` arrives as `%2520` and must come back as `%20`, and a
    name that is not UTF-8 comes back byte for byte."""
    return Path(os.fsdecode(unquote_to_bytes(urlsplit(uri).path)))


def media_slots(request: Mapping[str, Any]) -> Iterator[tuple[list[Any], int]]:
    """Every place in a createTask body where a URL may stand, as (list, index) pairs.

    Only these places: a prompt that happens to start with `file:` is text, not a file."""
    inp = request.get("input")
    if not isinstance(inp, dict):
        return
    lists: list[Any] = [inp.get("image_urls")]
    for element in inp.get("kling_elements") or []:
        if isinstance(element, dict):
            lists.append(element.get("element_input_urls"))
            lists.append(element.get("element_input_video_urls"))
    for urls in lists:
        if isinstance(urls, list):
            for i, value in enumerate(urls):
                if isinstance(value, str):
                    yield urls, i


def local_files(request: Mapping[str, Any]) -> list[Path]:
    seen: dict[Path, None] = {}
    for urls, i in media_slots(request):
        if is_local(urls[i]):
            seen[file_uri_path(urls[i])] = None
    return list(seen)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    except OSError as exc:
        raise LocalIOError(f"cannot read {path}: {exc.strerror or exc}") from None
    return h.hexdigest()


class DigestCache:
    """Content digests, each file read once per process (keyed by size and mtime, so a file
    edited during the run is noticed)."""

    def __init__(self) -> None:
        self._known: dict[tuple[Path, int, int], str] = {}

    def __call__(self, path: Path) -> str:
        try:
            st = path.stat()
        except OSError as exc:
            raise LocalIOError(f"cannot read {path}: {exc.strerror or exc}") from None
        key = (path, st.st_size, st.st_mtime_ns)
        if key not in self._known:
            self._known[key] = file_digest(path)
        return self._known[key]


def replace_media(request: Mapping[str, Any], replace: Callable[[Path], str]) -> dict[str, Any]:
    """A deep copy of `request` with each local medium replaced by `replace(path)`."""
    out = copy.deepcopy(dict(request))
    for urls, i in media_slots(out):
        if is_local(urls[i]):
            urls[i] = replace(file_uri_path(urls[i]))
    return out


def canonical_request(request: Mapping[str, Any], digest: Callable[[Path], str]) -> dict[str, Any]:
    out = replace_media(request, lambda p: f"sha256:{digest(p)}")
    out.pop("callBackUrl", None)
    return out


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def scene_key(request: Mapping[str, Any], digest: Callable[[Path], str]) -> tuple[str, str]:
    """(key, canonical JSON) for a createTask body."""
    text = canonical_json(canonical_request(request, digest))
    key = hashlib.sha256(f"{KEY_VERSION}\n{text}".encode()).hexdigest()
    return key, text


def version_of_canonical(canonical: str) -> str:
    """The version key of a canonical request as the ledger stores it (`scene_key`'s JSON).

    Not JSON (a ledger row written by hand, a test's "{}"): the digest of the text itself,
    so such rows still group by content and never collide with a real request's version."""
    try:
        obj = json.loads(canonical)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        inp = obj.get("input")
        if isinstance(inp, dict):
            obj = {**obj, "input": {k: v for k, v in inp.items() if k != "mode"}}
        text = canonical_json(obj)
    else:
        text = canonical
    return hashlib.sha256(f"{VERSION_KEY_VERSION}\n{text}".encode()).hexdigest()


def version_key(request: Mapping[str, Any], digest: Callable[[Path], str]) -> str:
    """The version key of a createTask body: its scene key without the mode."""
    return version_of_canonical(canonical_json(canonical_request(request, digest)))
