"""Writer tooling, `shotc fmt`: rewrites a script in canonical form.

Works on the lexer's classified lines (stage 1), not on the AST, so comments, `[[notes]]` and
prose come out byte for byte. What changes: directive lines lose their indentation and get one
space after the keyword, `SHOT` durations read `Ns`, `ELEMENT` headers read
`ELEMENT @name: description`, settings read `Key: value` with the key in Title Case and the
value normalised, element references are indented two spaces with a lower-case prefix, runs of
dialogue lines read `SPEAKER (tone): "TEXT"` with single spaces (the text as written), an
element's `Voice:` line is indented with its references,
blank lines shrink to one (except inside a note), one blank line stands before every block
(`SCENE`, `SHOT`, `ELEMENT`, and whatever follows an element's references), none right after a
`SCENE` or `SHOT` line, trailing white space goes and the file ends with one newline.

Every change keeps each line's terminal kind, so the parse tree, and with it every request,
is the same; `format_text` is total (any text) and idempotent. Whether a file may be formatted
at all (it must have no errors) is the command's business (`shotc.cli.tools`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shotc.diagnostics import Span
from shotc.kling import DURATION as _DURATION
from shotc.language.dialogue import shape_of
from shotc.language.lexer import Line, LineKind, classify, split_lines, split_prefix
from shotc.language.prose import wrong_case_directive
from shotc.language.settings import KEYS, check
from shotc.language.syntax import Setting

_HEADER = re.compile(r"@([A-Za-z0-9_-]+)\s*:(.*)")
_BLOCK_ENDS = frozenset(
    {LineKind.SETTING, LineKind.FIRST_FRAME, LineKind.LAST_FRAME, LineKind.INCLUDE}
)
_SECTIONS = frozenset({LineKind.SCENE, LineKind.SHOT, LineKind.ELEMENT})
_FRAMES = frozenset({LineKind.FIRST_FRAME, LineKind.LAST_FRAME})
_TITLE_CASE = {key.lower(): key for key in KEYS}
_NOWHERE = Span("", 0, 0, 0, 0)
_AFTER = re.compile(r"(?i:after)(\s+)(\S.*)")


def format_text(text: str) -> str:
    """`text` in canonical form. Safe (same requests) for a script without errors."""
    if text.startswith("\ufeff"):
        text = text[1:]
    out = _Writer()
    for number, raw in enumerate(split_lines(text), start=1):
        out.feed(raw, classify(raw, number))
    return "".join(line + "\n" for line in out.lines)


@dataclass
class _Writer:
    lines: list[str] = field(default_factory=list)
    comments: list[bool] = field(default_factory=list)  # parallel to lines: a comment line?
    # where we are: "title", "preamble", "shot", "element" or "after" (past a scene's shots)
    state: str = "title"
    resume: str = "title"  # the state an element block returns to
    note: bool = False  # inside a `[[` note of the current shot
    blank: bool = False  # a blank line is owed before the next line
    after_header: bool = False  # the last line written was a SCENE or SHOT line

    def emit(self, text: str, comment: bool = False) -> None:
        self.lines.append(text)
        self.comments.append(comment)
        self.after_header = False

    def flush_blank(self) -> None:
        # Blank lines right after SCENE/SHOT are empty paragraphs or nothing: dropped.
        if self.blank and self.lines and not self.after_header:
            self.emit("")
        self.blank = False

    def open_block(self) -> None:
        """One blank line before a block, above the comments that lead into it."""
        at = len(self.lines)
        while at > 0 and self.comments[at - 1]:
            at -= 1
        if at > 0 and self.lines[at - 1] != "":
            self.lines.insert(at, "")
            self.comments.insert(at, False)

    def feed(self, raw: str, line: Line | None) -> None:
        if line is None:  # a comment: kept as written; it never ends a block
            self.flush_blank()
            self.emit(raw.rstrip(), comment=True)
            return
        if line.kind == LineKind.BLANK:
            if self.state == "element":
                self.state = self.resume
            if self.state == "shot" and self.note:
                self.emit("")  # inside a note blank lines are the note's own text
            else:
                self.blank = True
            return
        if self.state == "element" and line.kind == LineKind.SETTING and _is_voice(line):
            self.flush_blank()
            value = line.content
            self.emit("  " + (f"Voice: {value}" if value else line.text[line.start : line.end]))
            return
        if self.state == "element" and (line.kind in _BLOCK_ENDS or line.kind in _SECTIONS):
            self.state = self.resume
            self.flush_blank()
            if line.kind in _BLOCK_ENDS:
                self.open_block()
        self.flush_blank()
        if line.kind in _SECTIONS:
            self.open_block()
            self.section(line)
        elif self.state == "element":
            self.emit("  " + _reference(line.text[line.start : line.end]))
        elif self.state == "shot":
            # prose, or text inside a note; a dialogue line gets its canonical spacing
            text = line.text.rstrip() if self.note else _dialogue(line)
            self.emit(text)
            self.note = _note_after(line, self.note)
        else:
            self.emit(_loose(line))

    def section(self, line: Line) -> None:
        content = line.content
        if line.kind == LineKind.SCENE:
            self.emit(_join("SCENE", content))
            self.state, self.after_header = "preamble", True
        elif line.kind == LineKind.SHOT:
            match = _DURATION.fullmatch(content)
            self.emit(f"SHOT {int(match.group(1))}s" if match else _join("SHOT", content))
            self.state, self.note, self.after_header = "shot", False, True
        else:
            self.emit(_element_header(content))
            self.resume = self.state if self.state in ("title", "preamble") else "after"
            self.state = "element"


def _is_voice(line: Line) -> bool:
    return line.text[line.start : line.text.index(":", line.start)].rstrip().lower() == "voice"


def _dialogue(line: Line) -> str:
    """A dialogue line as `SPEAKER (tone): "TEXT"`; any other shot line as written."""
    text = line.text.rstrip()
    plain = line.kind == LineKind.SETTING or (
        line.kind == LineKind.PROSE and line.arg == line.start
    )
    if not plain or "[[" in text or "]]" in text:
        return text
    body = text[line.start : line.end]
    shape = shape_of(body)
    if shape is None or wrong_case_directive(body, scene_too=False) is not None:
        return text
    tone = (
        ""
        if shape.paren is None
        else f" ({' '.join(body[shape.paren[0] : shape.paren[1]].split())})"
    )
    return f"{shape.speaker}{tone}: {body[shape.quote :]}"


def _join(keyword: str, content: str) -> str:
    return f"{keyword} {content}" if content else keyword


def _element_header(content: str) -> str:
    match = _HEADER.fullmatch(content)
    if match is not None and match.group(2).strip():
        return f"ELEMENT @{match.group(1)}: {match.group(2).strip()}"
    return _join("ELEMENT", content)


def _reference(body: str) -> str:
    """`image x.png` with the prefix lower-cased and one space, `after NAME` (language 1.1 §4)
    with `after` lower-cased and one space; other text unchanged."""
    after = _AFTER.match(body)
    if after is not None:
        space, name = after.group(1, 2)
        return "after" + (space if name.startswith("[[") else " ") + name
    prefix, offset = split_prefix(body)
    if prefix is None:
        return body
    token = body[offset:]
    return f"{prefix} {token}" if token.split() == [token] else body


def _loose(line: Line) -> str:
    """A line of the title page or a preamble (or a stray one), in canonical form."""
    if line.kind == LineKind.SETTING:
        return _setting(line)
    if line.kind in _FRAMES:
        return _join(line.kind.keyword, _reference(line.content))
    if line.kind == LineKind.INCLUDE:
        return _join("INCLUDE", line.content)
    return line.text.rstrip()  # out of place: an error the command reports; left alone


def _setting(line: Line) -> str:
    key = line.text[line.start : line.text.index(":", line.start)].rstrip()
    value = line.content
    name = key.lower()
    if name not in _TITLE_CASE or not value:
        return line.text[line.start : line.end]
    checked, problem = check(Setting(key, value, _NOWHERE, _NOWHERE, _NOWHERE))
    if problem is not None or checked is None:
        return line.text[line.start : line.end]
    shown = checked.value
    if isinstance(shown, bool):
        shown = "on" if shown else "off"
    return f"{_TITLE_CASE[name]}: {shown}"


def _note_after(line: Line, note: bool) -> bool:
    """Whether a `[[` note is open after this shot line (the rules of `shotc.language.prose`)."""
    position = line.arg if line.kind == LineKind.PROSE else line.start
    text, end = line.text, line.end
    if note:
        close = text.find("]]", position, end)
        if close < 0:
            return True
        position = close + 2
    while True:
        opening = text.find("[[", position, end)
        if opening < 0:
            return False
        closing = text.find("]]", opening + 2, end)
        if closing < 0:
            return True
        position = closing + 2
