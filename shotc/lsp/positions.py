"""Positions: the compiler's spans against LSP's.

The compiler counts lines split at LF (CRLF's CR dropped; a lone CR is white space inside a
line) and columns in code points, 1-based. LSP counts lines split at LF, CRLF *and* a lone CR,
and characters in the negotiated encoding's code units (UTF-16 unless the client offers
another), 0-based. Both are mapped through absolute code-point offsets in the text, so a
script with a lone CR or an emoji still gets squiggles in the right place.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

_LSP_BREAK = re.compile(r"\r\n|\r|\n")


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True, slots=True)
class Position:
    """An LSP position: 0-based line, character in the client's code units."""

    line: int
    character: int


class PositionMap:
    """Offsets ↔ compiler positions ↔ LSP positions for one text."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        # compiler lines start after each LF (summing the lines' lengths: faster than a regex)
        lengths = (len(line) + 1 for line in text.split("\n"))
        self._ours = list(itertools.accumulate(lengths, initial=0))[:-1]
        # LSP lines start after each LF, CRLF or lone CR: the same ones when there is no CR
        self._theirs = self._ours
        if "\r" in text:
            self._theirs = [0] + [m.end() for m in _LSP_BREAK.finditer(text)]
        # no lone CR: compiler line n is LSP line n - 1, and a line's LSP characters depend on
        # that line alone (the outline reuses an unchanged scene's symbols on this)
        # the common case: no lone CR (same lines) and ASCII (code units = code points)
        self.same_lines = len(self._theirs) == len(self._ours)
        self._simple = text.isascii() and self.same_lines

    # compiler (1-based line, 1-based code-point column) → offset
    def offset_of(self, line: int, column: int) -> int:
        index = min(max(line, 1), len(self._ours)) - 1
        start = self._ours[index]
        end = self._ours[index + 1] - 1 if index + 1 < len(self._ours) else len(self.text)
        if end > start and self.text[end - 1 : end] == "\r" and index + 1 < len(self._ours):
            end -= 1  # CRLF: the CR is not part of the compiler's line
        return min(start + max(column, 1) - 1, end)

    def lsp_position(self, offset: int) -> Position:
        offset = min(max(offset, 0), len(self.text))
        index = bisect.bisect_right(self._theirs, offset) - 1
        start = self._theirs[index]
        return Position(index, _units(self.text[start:offset], self.encoding))

    def lsp_of(self, line: int, column: int) -> Position:
        if self._simple:
            offset = self.offset_of(line, column)
            index = min(max(line, 1), len(self._ours)) - 1
            return Position(index, offset - self._ours[index])
        return self.lsp_position(self.offset_of(line, column))

    def offset_at(self, position: Position) -> int:
        """The code-point offset of an LSP position (clamped to its line)."""
        index = min(max(position.line, 0), len(self._theirs) - 1)
        start = self._theirs[index]
        end = self._theirs[index + 1] if index + 1 < len(self._theirs) else len(self.text)
        line = _LSP_BREAK.sub("", self.text[start:end])
        units = 0
        for i, char in enumerate(line):
            if units >= position.character:
                return start + i
            units += _units(char, self.encoding)
        return start + len(line)

    def compiler_position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) in the compiler's model."""
        index = bisect.bisect_right(self._ours, offset) - 1
        return index + 1, offset - self._ours[index] + 1
