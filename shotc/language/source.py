"""Stage 1 (input): reads and decodes a source file, then runs the front end on it: lexer,
parser and AST builder. Also reports characters no script should hold (E100)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shotc.diagnostics import Diagnostic, Span
from shotc.language.builder import build_script
from shotc.language.lexer import tokenize
from shotc.language.parser import parse
from shotc.language.syntax import Script

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class SourceError(Exception):
    """A file that cannot be read or is not UTF-8; the message is one line."""


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise SourceError("is a directory, not a .shot file") from None
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except OSError as exc:
        raise SourceError(exc.strerror or "cannot be read") from None
    except ValueError:  # a NUL byte in the path
        raise SourceError("not a valid file name") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


@dataclass(frozen=True, slots=True)
class ParsedFile:
    script: Script
    diagnostics: tuple[Diagnostic, ...]


def parse_text(text: str, file: str, stem: str) -> ParsedFile:
    diagnostics: list[Diagnostic] = []
    for match in _CONTROL.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        diagnostics.append(
            Diagnostic(
                "E100",
                f"control character U+{ord(match.group()):04X} in the source",
                Span.point(file, line, column),
                "delete it; scripts are plain text",
            )
        )
        if len(diagnostics) >= 20:
            break
    script, found = build_script(parse(tokenize(text)), file, stem)
    diagnostics.extend(found)
    return ParsedFile(script, tuple(diagnostics))
