"""Stage 3, element blocks: an `ELEMENT @name: description` line and the block under it (one
reference per line, an optional `Voice:` line), read into an `Element` with the diagnostics
of its header (E203, E204), its block (E101, E105) and its voice (E207, E213).

The AST builder (`shotc.language.builder`) decides where a block stands; this module only
reads it. The lines after the block's end are handed back, as they are loose lines again.
"""

from __future__ import annotations

import re

from shotc.diagnostics import Problems, Span
from shotc.language.lexer import Line, LineKind
from shotc.language.media import reference_of
from shotc.language.parser import Node
from shotc.language.prose import line_span, prompt_text, wrong_case_directive
from shotc.language.syntax import Element, Voice

_NAME = re.compile(r"@([A-Za-z0-9_-]*)")
# lines that end an element block (what follows them is loose again)
_BLOCK_ENDS = frozenset(
    {LineKind.BLANK, LineKind.SETTING, LineKind.FIRST_FRAME, LineKind.LAST_FRAME, LineKind.INCLUDE}
)


def setting_key(line: Line) -> str:
    """The key of a setting line, as written."""
    return line.text[line.start : line.text.index(":", line.start)].rstrip()


def read_element(node: Node, file: str, diags: Problems) -> tuple[Element, list[Line], set[int]]:
    """The element an `element` node declares, the lines after its block (loose lines), and
    the line numbers of the block (checked when the file is included)."""
    header = node.children[0]
    assert isinstance(header, Line)
    lines = [c for c in node.children[1:] if isinstance(c, Line)]
    span = line_span(header, file)
    name, description, name_span, header_ok = _header(header, span, file, diags)
    refs = []
    block_ok = True
    voice: Voice | None = None
    library = {header.number}
    rest = 0
    for rest, line in enumerate(lines):  # noqa: B007
        if line.kind == LineKind.SETTING and setting_key(line).lower() == "voice":
            # language 1.1 §3: a `Voice:` line stands among the element's references
            library.add(line.number)
            voice = _voice(line, voice, file, diags) or voice
            continue
        if line.kind in _BLOCK_ENDS:
            break
        ref = reference_of(line, file) if line.arg == line.start else None
        fixed = (
            wrong_case_directive(line.text[line.start : line.end], scene_too=True)
            if ref is None and line.arg == line.start
            else None
        )
        if fixed is not None:
            # language.md §9: such a line outside a shot always gets its own E101
            block_ok = False
            diags.add(
                "E101",
                "prose outside a shot",
                line_span(line, file),
                f"did you mean `{fixed}`? (directive keywords are UPPERCASE)",
            )
        elif ref is None:
            block_ok = False
            diags.add(
                "E105",
                "not a reference: an element block holds one URL or file path per line",
                line_span(line, file),
                "end the block with a blank line before other text",
            )
        else:
            refs.append(ref)
        library.add(line.number)
    else:
        rest = len(lines)
    element = Element(
        name, description, tuple(refs), span, name_span, header_ok, block_ok, file, voice
    )
    return element, lines[rest:], library


def _voice(line: Line, earlier: Voice | None, file: str, diags: Problems) -> Voice | None:
    """The element's voice from a `Voice:` line (E207 empty, E213 a second one)."""
    span = line_span(line, file)
    if earlier is not None:
        diags.add(
            "E213",
            "a second `Voice` line in this element block",
            span,
            f"an element has one voice; the first is on line {earlier.span.line}",
        )
        return None
    text, cues = prompt_text(line, line.arg, line.end, file, diags)
    if not text:
        key_end = line.start + len(setting_key(line))
        diags.add(
            "E207",
            "`Voice` has no value",
            Span(file, line.number, line.start + 1, line.number, key_end + 1),
            "describe the voice: `Voice: a deep, slow Scots voice`",
        )
        return None
    return Voice(text, cues, span)


def _header(
    header: Line, span: Span, file: str, diags: Problems
) -> tuple[str | None, str | None, Span, bool]:
    """(name, description, the name's span, whether the header is sound)."""

    def report(code: str, message: str, help: str) -> None:
        diags.add(code, message, span, help)

    argument = header.text[header.arg : header.end]
    offset = header.arg + len(argument) - len(argument.lstrip())
    match = _NAME.match(header.text, offset)
    example = "write `ELEMENT @name: description`"
    if match is None or not match.group(1):
        what = "a name after `@`" if match else "`@name`"
        report(
            "E203",
            f"`ELEMENT` needs {what}",
            example + " (names use letters, digits, `_` and `-`)",
        )
        colon = argument.find(":")
        if colon < 0 or not header.clean(header.arg + colon + 1, header.end):
            # an independent problem: kie.ai needs a description too (language.md §4)
            report("E204", "the element has no `:` and description", example)
        return None, None, span, False
    name = match.group(1)
    name_span = Span(file, header.number, offset + 1, header.number, match.end() + 1)
    after = header.text[match.end() : header.end]
    colon = after.find(":")
    if after[:1] and not after[:1].isspace() and after[:1] != ":":
        report(
            "E203",
            f"invalid character {after[0]!r} in the element name",
            "names use letters, digits, `_` and `-`",
        )
        return None, None, name_span, False
    if colon < 0 or after[:colon].strip():
        if colon >= 0:
            report(
                "E203",
                "the element name contains white space",
                "names use letters, digits, `_` and `-`",
            )
            return None, None, name_span, False
        report(
            "E204",
            f"element `@{name}` has no `:` and description",
            f"write `ELEMENT @{name}: a short description` (kie.ai requires one)",
        )
        return name, None, name_span, False
    description = header.clean(match.end() + colon + 1, header.end)
    if not description:
        report(
            "E204",
            f"element `@{name}` has an empty description",
            f"write `ELEMENT @{name}: a short description` (kie.ai requires one)",
        )
        return name, None, name_span, False
    return name, description, name_span, True
