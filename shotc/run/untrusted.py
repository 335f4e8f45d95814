"""Run stage: text that came from a server, made safe for a terminal.

kie.ai's answers (`failMsg`, `failCode`, task ids, `msg`), an upload server's URLs and a CDN's
redirect targets are untrusted: an ESC sequence in a `failMsg` could clear the screen, retitle
the terminal or rewrite the lines above it. Every sink that reaches stderr or stdout (progress
lines, summaries and `status` tables, error messages, JSON) passes its text through `shown` or
`json_safe` here, so no path can forget it. Our own text goes through the same functions and
is unchanged by them (it holds no control characters but the newlines of a multi-line message).
"""

from __future__ import annotations

import re

from shotc.run.errors import redact

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), and the Unicode
# format characters that reorder or hide text (bidi overrides and isolates, zero-width
# joiners, the BOM), plus the line and paragraph separators.
_OTHERS = "\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")
# Inside JSON strings json.dumps(ensure_ascii=False) already escapes C0; the rest of the set
# (DEL, C1, format characters) may be written as \\uXXXX anywhere in a JSON document, since
# outside strings a JSON text never contains them.
_UNSAFE_IN_JSON = re.compile(f"[{_OTHERS}]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character written as a visible escape (`\\x1b`, `\\u202e`).

    `keep_newlines` keeps `\\n` as is, for our own multi-line messages; a table cell or a
    progress line (one line each) escapes it too, so a server cannot forge a line."""
    pattern = _UNSAFE_BUT_NEWLINE if keep_newlines else _UNSAFE
    return pattern.sub(_escape, text)


def json_safe(document: str) -> str:
    """A JSON document (from json.dumps) with the control characters json.dumps leaves raw
    under `ensure_ascii=False` escaped as `\\uXXXX`: same data, safe on a terminal."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def terminal(text: str, *, keep_newlines: bool = False) -> str:
    """What a sink writes: the key redacted, control characters escaped."""
    return shown(redact(text), keep_newlines=keep_newlines)


__all__ = ["json_safe", "shown", "terminal"]
