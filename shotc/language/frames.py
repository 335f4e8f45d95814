"""Stage 3, frame lines: the argument of `FIRST FRAME` / `LAST FRAME` read into a `Frame`
(one image reference), or E100 when it is missing or has extra tokens.

Where a frame line may stand (a scene's preamble) is the AST builder's business
(`shotc.language.builder`); what the reference points at is the checks' (`checks.py`).
"""

from __future__ import annotations

import re

from shotc.diagnostics import Diagnostic, Span
from shotc.language.lexer import Line, split_prefix
from shotc.language.media import reference_of
from shotc.language.prose import line_span
from shotc.language.syntax import Frame

_TOKEN = re.compile(r"\S+")


def keyword_of(line: Line) -> str:
    return "FIRST FRAME" if line.kind == "FIRST_FRAME" else "LAST FRAME"


def read_frame(line: Line, file: str, diags: list[Diagnostic]) -> Frame | None:
    """The frame a `FIRST FRAME` / `LAST FRAME` line gives, or None after an E100."""
    which = "first" if line.kind == "FIRST_FRAME" else "last"
    keyword = keyword_of(line)
    argument = line.content
    if not argument:
        diags.append(
            Diagnostic(
                "E100",
                f"`{keyword}` needs an image reference",
                line_span(line, file),
                f"write `{keyword} image.png` or a URL",
            )
        )
        return None
    offset = line.text.index(argument, line.arg)
    sub = Line("REFERENCE", line.number, line.text, offset, line.end, offset)
    ref = reference_of(sub, file)
    if ref is None:
        # the reference is the first token after the optional prefix; the offending
        # token is the one after it
        _prefix, skip = split_prefix(argument)
        tokens = list(_TOKEN.finditer(line.text, offset + skip, line.end))
        stray = tokens[1]
        diags.append(
            Diagnostic(
                "E100",
                f"`{keyword}` takes one reference; `{stray.group()}` is extra",
                Span(file, line.number, stray.start() + 1, line.number, stray.end() + 1),
                "write one URL or path per frame; notes go in a shot's prose as `[[...]]`",
            )
        )
        return None
    return Frame(which, ref, line_span(line, file))
