"""Slates for missing scenes (film stage): a black frame with the scene's title and a line
saying what is missing, drawn with a small built-in 5x7 bitmap font (no font files, no
FreeType: PyAV's wheels carry no `drawtext`). The font has capitals, digits and common
punctuation; lower case is drawn in capitals, accents are dropped (é as E) and any other
character as `?`."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import av.video.frame

# 5x7 glyphs, rows top to bottom, '#' lit. A cell is 6x8 (one column and one row of spacing).
_GLYPHS = {
    " ": ".....|.....|.....|.....|.....|.....|.....",
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
    "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.",
    "D": "####.|#...#|#...#|#...#|#...#|#...#|####.",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
    "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
    "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
    "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
    "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.",
    "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
    "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
    "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
    "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
    "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
    "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
    "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
    "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
    "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
    ".": ".....|.....|.....|.....|.....|.##..|.##..",
    ",": ".....|.....|.....|.....|.##..|..#..|.#...",
    ":": ".....|.##..|.##..|.....|.##..|.##..|.....",
    ";": ".....|.##..|.##..|.....|.##..|..#..|.#...",
    "-": ".....|.....|.....|#####|.....|.....|.....",
    "_": ".....|.....|.....|.....|.....|.....|#####",
    "'": ".##..|..#..|.#...|.....|.....|.....|.....",
    '"': ".#.#.|.#.#.|.#.#.|.....|.....|.....|.....",
    "!": "..#..|..#..|..#..|..#..|..#..|.....|..#..",
    "?": ".###.|#...#|....#|...#.|..#..|.....|..#..",
    "(": "...#.|..#..|.#...|.#...|.#...|..#..|...#.",
    ")": ".#...|..#..|...#.|...#.|...#.|..#..|.#...",
    "/": ".....|....#|...#.|..#..|.#...|#....|.....",
    "&": ".##..|#..#.|#.#..|.#...|#.#.#|#..#.|.##.#",
    "+": ".....|..#..|..#..|#####|..#..|..#..|.....",
    "=": ".....|.....|#####|.....|#####|.....|.....",
    "#": ".#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#.",
    "%": "##...|##..#|...#.|..#..|.#...|#..##|...##",
    "@": ".###.|#...#|....#|.##.#|#.#.#|#.#.#|.###.",
    "*": ".....|..#..|#.#.#|.###.|#.#.#|..#..|.....",
    "·": ".....|.....|.....|..#..|.....|.....|.....",
}
GLYPH_W, GLYPH_H, CELL_W, CELL_H = 5, 7, 6, 8
FONT = {ch: tuple(c == "#" for row in rows.split("|") for c in row) for ch, rows in _GLYPHS.items()}

BLACK_Y, WHITE_Y, GREY_Y, NEUTRAL_UV = 16, 235, 150, 128  # limited-range luma, neutral chroma


def drawable(text: str) -> str:
    """`text` as the font can draw it: capitals, accents dropped, unknowns as `?`."""
    out = []
    for ch in unicodedata.normalize("NFKD", text.upper()):
        if unicodedata.combining(ch):
            continue
        out.append(ch if ch in FONT else "?")
    return "".join(out)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap to lines of at most `width` characters (long words are cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


def _draw(
    luma: bytearray, width: int, text: str, x0: int, y0: int, scale: int, value: int, height: int
) -> None:
    lit = bytes([value]) * scale
    for i, ch in enumerate(text):
        glyph = FONT[ch]
        gx = x0 + i * CELL_W * scale
        for gy in range(GLYPH_H):
            for col in range(GLYPH_W):
                if not glyph[gy * GLYPH_W + col]:
                    continue
                x = gx + col * scale
                if x < 0 or x + scale > width:
                    continue
                for dy in range(scale):
                    y = y0 + gy * scale + dy
                    if 0 <= y < height:
                        luma[y * width + x : y * width + x + scale] = lit


def slate_luma(width: int, height: int, title: str, note: str) -> bytes:
    """The slate's luma plane (width*height bytes): the title large and centred, wrapped to
    at most three lines, and `note` smaller beneath it."""
    luma = bytearray([BLACK_Y]) * (width * height)
    usable = int(width * 0.9)
    title_text = drawable(title)
    scale = max(1, min(height // (CELL_H * 9), usable // (CELL_W * max(1, len(title_text)))))
    max_chars = max(1, usable // (CELL_W * scale))
    lines = wrap(title_text, max_chars)[:3]
    note_text = drawable(note)
    note_scale = max(1, min(scale // 2 or 1, usable // (CELL_W * max(1, len(note_text)))))
    block = len(lines) * CELL_H * scale + 2 * CELL_H * note_scale
    y = (height - block) // 2
    for line in lines:
        x = (width - len(line) * CELL_W * scale) // 2
        _draw(luma, width, line, x, y, scale, WHITE_Y, height)
        y += CELL_H * scale
    y += CELL_H * note_scale
    note_text = note_text[: max(1, usable // (CELL_W * note_scale))]
    x = (width - len(note_text) * CELL_W * note_scale) // 2
    _draw(luma, width, note_text, x, y, note_scale, GREY_Y, height)
    return bytes(luma)


def yuv420p_frame(width: int, height: int, luma: bytes) -> av.video.frame.VideoFrame:
    """A yuv420p frame with the given luma plane and neutral (grey) chroma."""
    import av

    frame = av.VideoFrame(width, height, "yuv420p")
    planes = [
        (luma, width, height),
        (None, width // 2, height // 2),
        (None, width // 2, height // 2),
    ]
    for plane, (data, w, h) in zip(frame.planes, planes, strict=True):
        stride = plane.line_size
        if data is None:
            plane.update(bytes([NEUTRAL_UV]) * plane.buffer_size)
            continue
        if stride == w:
            plane.update(data)
            continue
        rows = bytearray(plane.buffer_size)
        for r in range(h):
            rows[r * stride : r * stride + w] = data[r * w : (r + 1) * w]
        plane.update(bytes(rows))
    return frame
