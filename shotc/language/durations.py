"""Stage 3, shot durations: the `SHOT 5s` argument read into whole seconds, or E102 with a
help line that writes the form `fmt` would (`SHOT 5 seconds` → `SHOT 5s`)."""

from __future__ import annotations

import re

from shotc.diagnostics import Problems, Span
from shotc.kling import DURATION as _DURATION
from shotc.language.lexer import Line

_SECONDS = re.compile(r"(?i)([0-9]+)\s*(?:s|secs?|seconds?)\.?")
_LEAD = re.compile(r"([0-9]+)(?:([.,][0-9]+)|\s*[sS]?)")
# any duration this long is far outside 3-15 s (E301); int() of thousands of digits would raise
_HUGE = 999_999_999


def shot_seconds(header: Line, file: str, diags: Problems) -> int | None:
    """The seconds a `SHOT` line gives, or None after reporting E102."""
    argument = header.content
    match = _DURATION.fullmatch(argument)
    if match is not None:
        digits = match.group(1).lstrip("0") or "0"
        return int(digits) if len(digits) <= 9 else _HUGE
    if not argument:
        span = Span(file, header.number, header.start + 1, header.number, header.start + 5)
        diags.add("E102", "`SHOT` needs a duration", span, "write `SHOT 5s`")
        return None
    start = header.text.index(argument, header.arg)
    span = Span(file, header.number, start + 1, header.number, header.end + 1)
    lead = _LEAD.match(argument)
    seconds = _SECONDS.fullmatch(argument)
    if seconds is not None:
        help = f"write `SHOT {seconds.group(1).lstrip('0') or '0'}s`"
    elif lead is not None and lead.group(2):
        help = "durations are whole seconds: write `SHOT 3s`"
    elif lead is not None:
        help = f"write `SHOT {lead.group(1).lstrip('0') or '0'}s` and put the prose below"
    else:
        help = "write the duration in whole seconds, like `SHOT 5s`"
    diags.add("E102", f"bad shot duration `{argument}`", span, help)
    return None
