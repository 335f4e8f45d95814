"""Run stage: is a file a complete MP4? The one home of that check.

A download that ends early without a `Content-Length` looks, to HTTP, like a whole file; it
must never be taken for a clip (it would be recorded as done, and the paid result lost once
its URL expires). An ISO base media file (MP4, MOV) is a sequence of top-level boxes, each
starting with its size and a four-character type; a complete file's boxes add up exactly to
its size and include the `moov` box (the index without which no player can read it).
Reading only the box headers (seeking over the contents) keeps this cheap for any size.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

# Box types that may open a file (ftyp is the rule; the others appear in old QuickTime files
# and in files written by streaming muxers).
_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"styp"})
_MAX_BOXES = 100_000  # a real clip has a handful: a file of tiny boxes is not one


def mp4_problem(path: Path) -> str | None:
    """Why `path` is not a complete MP4, or None when it is."""
    with path.open("rb") as fh:
        return _problem(fh, os.fstat(fh.fileno()).st_size)


def is_complete_mp4(path: Path) -> bool:
    """Top-level boxes that add up to the file size, the first an ISO media box, and a
    `moov` among them. A box of size 0 ("to the end of the file") is refused: it proves
    nothing about where the file should end, so a cut-short file would pass."""
    return mp4_problem(path) is None


def _problem(fh: BinaryIO, size: int) -> str | None:
    offset = 0
    seen_moov = False
    for count in range(_MAX_BOXES):
        if offset == size:
            break
        if size - offset < 8:
            return f"ends inside a box header at byte {offset} (cut short?)"
        fh.seek(offset)
        header = fh.read(16)
        box_size: int
        kind: bytes
        box_size, kind = struct.unpack(">I4s", header[:8])
        if count == 0 and kind not in _FIRST_BOXES:
            return "does not start with an ISO media box (not an MP4 file)"
        if not all(0x20 <= b < 0x7F for b in kind):
            return f"has a damaged box header at byte {offset}"
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return f"ends inside a box header at byte {offset} (cut short?)"
            box_size = int(struct.unpack(">Q", header[8:16])[0])
            if box_size < 16:
                return f"has a damaged box header at byte {offset}"
        elif box_size == 0:
            return f"has a box without a size at byte {offset} (cannot tell it is complete)"
        elif box_size < 8:
            return f"has a damaged box header at byte {offset}"
        if offset + box_size > size:
            end = offset + box_size
            return f"is cut short: a box at byte {offset} ends at {end}, the file at {size}"
        seen_moov = seen_moov or kind == b"moov"
        offset += box_size
    else:
        return "has too many boxes to be a clip"
    if size == 0:
        return "is empty"
    if not seen_moov:
        return "has no moov box (cut short, or not a playable MP4)"
    return None


__all__ = ["is_complete_mp4", "mp4_problem"]
