"""Stage 3: the AST builder. Walks the parse tree of one file and produces its `Script`,
with the structural diagnostics: lines out of place (E101, E104, E105, E208), shot durations
(E102), element headers (E203, E204) and what shot prose reports (E103, E105, W505)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shotc.diagnostics import Diagnostic, Span
from shotc.language.lexer import Line, split_prefix
from shotc.language.media import reference_of
from shotc.language.parser import Node
from shotc.language.prose import line_span, shot_prose, wrong_case_directive
from shotc.language.syntax import Element, Frame, Include, Scene, Script, Setting, Shot

_DURATION = re.compile(r"([0-9]+)\s*[sS]?")
_TOKEN = re.compile(r"\S+")
_NAME = re.compile(r"@([A-Za-z0-9_-]*)")
_BLOCK_ENDS = frozenset({"BLANK", "SETTING", "FIRST_FRAME", "LAST_FRAME", "INCLUDE"})


@dataclass
class _SceneParts:
    title: str
    index: int
    span: Span | None
    settings: list[Setting] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)


class _Builder:
    def __init__(self, file: str, stem: str, has_scenes: bool) -> None:
        self.file = file
        self.stem = stem
        self.has_scenes = has_scenes
        self.diagnostics: list[Diagnostic] = []
        self.settings: list[Setting] = []
        self.includes: list[Include] = []
        self.elements: list[Element] = []
        self.scenes: list[_SceneParts] = []
        self.library_lines: set[int] = set()
        # where loose lines stand: "title", "preamble" (of the current scene) or "shots"
        self.place = "title"
        self.implicit = _SceneParts(stem, 1, None)
        self.prose_run = False  # inside a paragraph of stray prose already reported

    def report(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help))

    # -- loose lines: the title page, a scene's preamble, and what follows an element block

    def loose(self, line: Line) -> None:
        kind = line.kind
        if kind != "PROSE":
            self.prose_run = False
        if kind == "BLANK":
            return
        if self.place == "stray":
            # language.md §5: the lines from a stray SHOT up to the first SCENE are skipped
            # (ELEMENT blocks among them still declare their elements)
            return
        if self.place == "title":
            self.library_lines.add(line.number)
        if kind == "PROSE":
            self.stray_prose(line)
        elif kind == "SETTING":
            self.setting(line)
        elif kind in ("FIRST_FRAME", "LAST_FRAME"):
            self.frame(line)
        elif kind == "INCLUDE":
            if self.place == "title":
                self.include(line)
            else:
                self.report(
                    "E105",
                    "`INCLUDE` is only allowed in the title page, before the first "
                    "`SCENE` or `SHOT`",
                    line_span(line, self.file),
                )
        elif kind == "REFERENCE":
            self.report(
                "E105",
                "a media reference outside an element block",
                line_span(line, self.file),
                "references belong under an `ELEMENT @name: description` line, "
                "or after `FIRST FRAME` / `LAST FRAME`",
            )

    def stray_prose(self, line: Line) -> None:
        forced = line.arg != line.start
        fixed = (
            None
            if forced
            else wrong_case_directive(line.text[line.start : line.end], scene_too=True)
        )
        if fixed is not None:
            self.report(
                "E101",
                "prose outside a shot",
                line_span(line, self.file),
                f"did you mean `{fixed}`? (directive keywords are UPPERCASE)",
            )
        elif not self.prose_run:
            self.report(
                "E101",
                "prose outside a shot",
                line_span(line, self.file),
                "add `SHOT <n>s` above it",
            )
        self.prose_run = True

    def setting(self, line: Line) -> None:
        key_end = line.text.index(":", line.start)
        key = line.text[line.start : key_end].rstrip()
        value_start = line.arg + (len(line.text[line.arg :]) - len(line.text[line.arg :].lstrip()))
        value = line.text[value_start : line.end] if value_start < line.end else ""
        key_span = Span(
            self.file, line.number, line.start + 1, line.number, line.start + len(key) + 1
        )
        value_span = (
            Span(self.file, line.number, value_start + 1, line.number, line.end + 1)
            if value
            else key_span
        )
        setting = Setting(key, value, line_span(line, self.file), key_span, value_span)
        if self.place == "title":
            self.settings.append(setting)
        elif self.place == "preamble":
            if setting.name in ("title", "model"):
                self.report(
                    "E208",
                    f"`{key}` is a title-page setting; it is not allowed in a scene",
                    setting.span,
                    "move it above the first `SCENE`",
                )
            else:
                self.scenes[-1].settings.append(setting)
        else:
            self.report(
                "E208",
                "a setting after the scene's first `SHOT`",
                setting.span,
                "move it into the scene's preamble, between `SCENE` and its first `SHOT`",
            )

    def frame(self, line: Line) -> None:
        which = "first" if line.kind == "FIRST_FRAME" else "last"
        keyword = "FIRST FRAME" if which == "first" else "LAST FRAME"
        target = (
            self.implicit
            if self.place == "title" and not self.has_scenes
            else (self.scenes[-1] if self.place == "preamble" else None)
        )
        if target is None:
            where = (
                "before the first `SCENE`"
                if self.place == "title"
                else "after the scene's first `SHOT`"
            )
            self.report(
                "E105",
                f"`{keyword}` {where}",
                line_span(line, self.file),
                "frames go in a scene's preamble, between `SCENE` and its first `SHOT`",
            )
            return
        argument = line.content
        if not argument:
            self.report(
                "E100",
                f"`{keyword}` needs an image reference",
                line_span(line, self.file),
                f"write `{keyword} image.png` or a URL",
            )
            return
        offset = line.text.index(argument, line.arg)
        sub = Line("REFERENCE", line.number, line.text, offset, line.end, offset)
        ref = reference_of(sub, self.file)
        if ref is None:
            # the reference is the first token after the optional prefix; the offending
            # token is the one after it
            _prefix, skip = split_prefix(argument)
            tokens = list(_TOKEN.finditer(line.text, offset + skip, line.end))
            stray = tokens[1]
            self.report(
                "E100",
                f"`{keyword}` takes one reference; `{stray.group()}` is extra",
                Span(self.file, line.number, stray.start() + 1, line.number, stray.end() + 1),
                "write one URL or path per frame; notes go in a shot's prose as `[[...]]`",
            )
            return
        target.frames.append(Frame(which, ref, line_span(line, self.file)))

    def include(self, line: Line) -> None:
        path = line.content
        if not path:
            self.report(
                "E100",
                "`INCLUDE` needs a file path",
                line_span(line, self.file),
                "write `INCLUDE cast.shot`",
            )
            return
        self.includes.append(Include(path, line_span(line, self.file)))

    # -- sections

    def element(self, node: Node) -> None:
        header = node.children[0]
        assert isinstance(header, Line)
        lines = [c for c in node.children[1:] if isinstance(c, Line)]
        span = line_span(header, self.file)
        name, description, name_span, header_ok = self.element_header(header, span)
        refs = []
        block_ok = True
        rest = 0
        for rest, line in enumerate(lines):  # noqa: B007
            if line.kind in _BLOCK_ENDS:
                break
            ref = reference_of(line, self.file) if line.arg == line.start else None
            fixed = (
                wrong_case_directive(line.text[line.start : line.end], scene_too=True)
                if ref is None and line.arg == line.start
                else None
            )
            if fixed is not None:
                # language.md §9: such a line outside a shot always gets its own E101
                block_ok = False
                self.report(
                    "E101",
                    "prose outside a shot",
                    line_span(line, self.file),
                    f"did you mean `{fixed}`? (directive keywords are UPPERCASE)",
                )
            elif ref is None:
                block_ok = False
                self.report(
                    "E105",
                    "not a reference: an element block holds one URL or file path per line",
                    line_span(line, self.file),
                    "end the block with a blank line before other text",
                )
            else:
                refs.append(ref)
            self.library_lines.add(line.number)
        else:
            rest = len(lines)
        self.library_lines.add(header.number)
        self.elements.append(
            Element(name, description, tuple(refs), span, name_span, header_ok, block_ok, self.file)
        )
        self.prose_run = False
        for line in lines[rest:]:
            self.loose(line)

    def element_header(self, header: Line, span: Span) -> tuple[str | None, str | None, Span, bool]:
        argument = header.text[header.arg : header.end]
        offset = header.arg + len(argument) - len(argument.lstrip())
        match = _NAME.match(header.text, offset)
        example = "write `ELEMENT @name: description`"
        if match is None or not match.group(1):
            what = "a name after `@`" if match else "`@name`"
            self.report(
                "E203",
                f"`ELEMENT` needs {what}",
                span,
                example + " (names use letters, digits, `_` and `-`)",
            )
            return None, None, span, False
        name = match.group(1)
        name_span = Span(self.file, header.number, offset + 1, header.number, match.end() + 1)
        after = header.text[match.end() : header.end]
        colon = after.find(":")
        if after[:1] and not after[:1].isspace() and after[:1] != ":":
            self.report(
                "E203",
                f"invalid character {after[0]!r} in the element name",
                span,
                "names use letters, digits, `_` and `-`",
            )
            return None, None, name_span, False
        if colon < 0 or after[:colon].strip():
            if colon >= 0:
                self.report(
                    "E203",
                    "the element name contains white space",
                    span,
                    "names use letters, digits, `_` and `-`",
                )
                return None, None, name_span, False
            self.report(
                "E204",
                f"element `@{name}` has no `:` and description",
                span,
                f"write `ELEMENT @{name}: a short description` (kie.ai requires one)",
            )
            return name, None, name_span, False
        description = after[colon + 1 :].strip()
        if not description:
            self.report(
                "E204",
                f"element `@{name}` has an empty description",
                span,
                f"write `ELEMENT @{name}: a short description` (kie.ai requires one)",
            )
            return name, None, name_span, False
        return name, description, name_span, True

    def shot(self, node: Node, stray: bool) -> None:
        header = node.children[0]
        assert isinstance(header, Line)
        self.prose_run = False
        if stray:
            self.place = "stray"
            self.report(
                "E104",
                "`SHOT` before the first `SCENE`",
                line_span(header, self.file),
                "move it into a scene, or add a `SCENE` line above it",
            )
            return
        lines = [c for c in node.children[1:] if isinstance(c, Line)]
        seconds = self.duration(header)
        prose = shot_prose(lines, self.file)
        self.diagnostics.extend(prose.diagnostics)
        scene = self.scenes[-1] if self.has_scenes else self.implicit
        scene.shots.append(Shot(seconds, prose.prompt, prose.cues, line_span(header, self.file)))
        self.place = "shots"

    def duration(self, header: Line) -> int | None:
        argument = header.content
        match = _DURATION.fullmatch(argument)
        if match is not None:
            digits = match.group(1).lstrip("0") or "0"
            # any duration this long is far outside 3-15 s (E301); int() of thousands of
            # digits would raise
            return int(digits) if len(digits) <= 9 else 999_999_999
        if not argument:
            span = Span(self.file, header.number, header.start + 1, header.number, header.start + 5)
            self.report("E102", "`SHOT` needs a duration", span, "write `SHOT 5s`")
        else:
            start = header.text.index(argument, header.arg)
            span = Span(self.file, header.number, start + 1, header.number, header.end + 1)
            lead = re.match(r"[0-9]+(?:([.,][0-9]+)|\s*[sS]?)", argument)
            if lead is not None and lead.group(1):
                help = "durations are whole seconds: write `SHOT 3s`"
            elif lead is not None:
                help = f"write `SHOT {lead.group(0).strip()}` and put the prose on the lines below"
            else:
                help = "write the duration in whole seconds, like `SHOT 5s`"
            self.report("E102", f"bad shot duration `{argument}`", span, help)
        return None

    def scene(self, node: Node) -> None:
        header = node.children[0]
        assert isinstance(header, Line)
        self.scenes.append(
            _SceneParts(header.content, len(self.scenes) + 1, line_span(header, self.file))
        )
        self.place = "preamble"
        self.prose_run = False
        self.body(node.children[1:], stray=False)

    def body(self, children: tuple[Node | Line, ...], stray: bool) -> None:
        for child in children:
            if isinstance(child, Line):
                self.loose(child)
            elif child.rule == "element":
                self.element(child)
            elif child.rule == "shot":
                self.shot(child, stray)
            elif child.rule == "scene":
                self.scene(child)
            else:  # title_page
                self.body(child.children, stray)

    def script(self) -> Script:
        scenes = []
        parts = self.scenes if self.has_scenes else [self.implicit] if self.implicit.shots else []
        for part in parts:
            span = part.span or part.shots[0].span
            scenes.append(
                Scene(
                    part.title,
                    part.index,
                    tuple(part.settings),
                    tuple(part.frames),
                    tuple(part.shots),
                    span,
                    implicit=part.span is None,
                )
            )
        has_shots = any(s.shots for s in scenes)
        return Script(
            self.file,
            self.stem,
            tuple(self.settings),
            tuple(self.includes),
            tuple(self.elements),
            tuple(scenes),
            has_shots,
            frozenset(self.library_lines),
        )


def build_script(tree: Node, file: str, stem: str) -> tuple[Script, list[Diagnostic]]:
    """The AST of one parsed file, and the structural diagnostics found on the way."""
    has_scenes = any(isinstance(c, Node) and c.rule == "scene" for c in tree.children)
    builder = _Builder(file, stem, has_scenes)
    for child in tree.children:
        if isinstance(child, Node) and child.rule == "scene":
            builder.scene(child)
        elif isinstance(child, Node) and child.rule == "shot":
            builder.shot(child, stray=has_scenes)
        elif isinstance(child, Node) and child.rule == "element":
            builder.element(child)
        elif isinstance(child, Node):
            builder.body(child.children, stray=False)
    return builder.script(), builder.diagnostics
