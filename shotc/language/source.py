"""Stage 1 (input): reads and decodes a source file, then runs the front end on it: lexer,
parser and AST builder. Also reports characters no script should hold (E100)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shotc.diagnostics import Diagnostic, Problems, Span
from shotc.kling import CONTROL as _CONTROL
from shotc.language.builder import build_script
from shotc.language.lexer import tokenize
from shotc.language.parser import parse
from shotc.language.syntax import Script

# One home for the limit: a script (or a request file) is text a person wrote; anything this big
# is a mistake or an attack, and reading it whole would take memory without bound.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
_TOO_BIG = "larger than 64 MiB: not a script"
# Opening a FIFO without a writer blocks; O_NONBLOCK makes it return, so the fstat check below
# can refuse it. Regular files ignore the flag. O_NOCTTY: a terminal never becomes ours.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class SourceError(Exception):
    """A file that cannot be read or is not UTF-8; the message is one line."""


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a .shot file"
    kinds = [
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ]
    kind = next((name for test, name in kinds if test(mode)), "a socket or other special file")
    return f"not a regular file ({kind})"


def read_bytes(path: Path) -> bytes:
    """The bytes of the regular file at `path`, at most MAX_SOURCE_BYTES of them.

    Anything else (a directory, a FIFO, a device, a socket; a file over the limit) is a
    SourceError, found without blocking and without reading more than the limit plus one byte.
    """
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):  # before opening: opening a FIFO blocks, a device may act
            raise SourceError(_not_regular(mode))
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except OSError as exc:
        raise SourceError(exc.strerror or "cannot be read") from None
    except ValueError:  # a NUL byte in the path, or one the file system cannot encode
        raise SourceError("not a valid file name") from None
    with os.fdopen(fd, "rb") as handle:
        try:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):  # replaced between the stat and the open
                raise SourceError(_not_regular(mode))
            data = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            raise SourceError(exc.strerror or "cannot be read") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(_TOO_BIG)
    return data


def read_stream(stream: BinaryIO) -> bytes:
    """At most MAX_SOURCE_BYTES from a stream (stdin); SourceError past the limit."""
    data = stream.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(_TOO_BIG)
    return data


def decode(data: bytes) -> str:
    """UTF-8 text, a leading BOM removed: the one decoding of every file shotc reads (scripts,
    request JSON, stdin). SourceError naming the first bad byte and its line otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: Path) -> str:
    return decode(read_bytes(path))


@dataclass(frozen=True, slots=True)
class ParsedFile:
    script: Script
    diagnostics: tuple[Diagnostic, ...]


def parse_text(text: str, file: str, stem: str, first_line: int = 1) -> ParsedFile:
    """The front end on `text`, its lines numbered from `first_line`."""
    parts = parse_parts(text, file, stem, first_line)
    return ParsedFile(parts.script, (*parts.control, *parts.structure, *parts.notes))


# A script with control characters everywhere is reported by its first ones only.
MAX_CONTROL_REPORTS = 20


@dataclass(frozen=True, slots=True)
class ParsedParts:
    """`parse_text`'s result before its diagnostics are joined (in this order): kept apart
    so the language server can parse a document in scene chunks and join them as one."""

    script: Script
    control: tuple[Diagnostic, ...]  # E100 for control characters, at most 20
    structure: tuple[Diagnostic, ...]  # the AST builder's
    notes: tuple[Diagnostic, ...]  # E103 for notes left open outside shots


def parse_parts(text: str, file: str, stem: str, first_line: int = 1) -> ParsedParts:
    control = Problems()
    for match in _CONTROL.finditer(text):
        line = text.count("\n", 0, match.start()) + first_line
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        control.add(
            "E100",
            f"control character U+{ord(match.group()):04X} in the source",
            Span.point(file, line, column),
            "delete it; scripts are plain text",
        )
        if len(control) >= MAX_CONTROL_REPORTS:
            break
    unclosed: list[tuple[int, int]] = []
    script, found = build_script(parse(tokenize(text, unclosed, first_line)), file, stem)
    notes = [
        # language 1.1 §1: outside a shot a note ends at the next directive line at the latest
        Diagnostic(
            "E103",
            "this `[[` note is not closed before the next directive line",
            Span(file, line, column + 1, line, column + 3),
            "close the note with `]]`",
        )
        for line, column in unclosed
    ]
    return ParsedParts(script, tuple(control), tuple(found), tuple(notes))
