"""Stage 3, frame lines: the argument of `FIRST FRAME` / `LAST FRAME` read into a `Frame`
(one image reference, or `after SCENE` for a first frame, language 1.1 §4), or E100 when it is
missing, has extra tokens, or is a `LAST FRAME after`.

Where a frame line may stand (a scene's preamble) is the AST builder's business
(`shotc.language.builder`); what the reference points at is the checks' (`checks.py`).
"""

from __future__ import annotations

import re

from shotc.diagnostics import Problems, Span
from shotc.language.lexer import Line, LineKind, split_prefix
from shotc.language.media import reference_of
from shotc.language.prose import line_span
from shotc.language.syntax import After, Frame

_TOKEN = re.compile(r"\S+")
# `after` in any case, as the whole first token (`after.png` is a file)
_AFTER = re.compile(r"(?i:after)(?=\s|$)")


def keyword_of(line: Line) -> str:
    return line.kind.keyword


def read_frame(line: Line, file: str, diags: Problems) -> Frame | None:
    """The frame a `FIRST FRAME` / `LAST FRAME` line gives, or None after an E100."""
    which = "first" if line.kind == LineKind.FIRST_FRAME else "last"
    keyword = keyword_of(line)
    argument = line.content
    if not argument:
        diags.add(
            "E100",
            f"`{keyword}` needs an image reference",
            line_span(line, file),
            f"write `{keyword} image.png` or a URL",
        )
        return None
    # where the argument starts (not `text.index(content)`: a `[[note]]` between two tokens
    # is blanked in the text but gone from `content`)
    rest = line.text[line.arg : line.end]
    offset = line.arg + len(rest) - len(rest.lstrip())
    after = _AFTER.match(line.text, offset)
    if after is not None:
        return _after(
            line,
            which,
            after.end(),
            Span(file, line.number, offset + 1, line.number, after.end() + 1),
            file,
            diags,
        )
    sub = Line(LineKind.REFERENCE, line.number, line.text, offset, line.end, offset)
    ref = reference_of(sub, file)
    if ref is None:
        # the reference is the first token after the optional prefix; the offending
        # token is the one after it
        _prefix, skip = split_prefix(argument)
        tokens = list(_TOKEN.finditer(line.text, offset + skip, line.end))
        stray = tokens[1]
        diags.add(
            "E100",
            f"`{keyword}` takes one reference; `{stray.group()}` is extra",
            Span(file, line.number, stray.start() + 1, line.number, stray.end() + 1),
            "write one URL or path per frame; notes go in a shot's prose as `[[...]]`",
        )
        return None
    return Frame(which, ref, line_span(line, file))


def _after(
    line: Line, which: str, name_from: int, keyword: Span, file: str, diags: Problems
) -> Frame | None:
    """`FIRST FRAME after SCENE`: the frame naming SCENE, or E100 at `after`."""
    name = " ".join(line.clean(name_from, line.end).split())
    if which == "last":
        diags.add(
            "E100",
            "`LAST FRAME after` is not allowed: a last frame takes an image reference",
            keyword,
            "only a first frame can come from another scene's clip "
            "(`FIRST FRAME after SCENE`); write `LAST FRAME image.png` or a URL",
        )
        return None
    if not name:
        diags.add(
            "E100",
            "`FIRST FRAME after` needs a scene's title or id",
            keyword,
            "write `FIRST FRAME after Dawn on the cliff` (a scene of this file)",
        )
        return None
    start = (
        name_from
        + len(line.text[name_from : line.end])
        - len(line.text[name_from : line.end].lstrip())
    )
    span = Span(file, line.number, start + 1, line.number, line.end + 1)
    return Frame(which, After(name, span), line_span(line, file))
