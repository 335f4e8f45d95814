"""Stage 3: the AST builder. Walks the parse tree of one file and produces its `Script`,
deciding where each line stands: lines out of place (E101, E104, E105, E208), a `Voice` outside
an element block (E206). The pieces are read by their own modules: shot durations
(`durations`, E102), element blocks (`elements`, E203, E204, E207, E213), frame lines
(`frames`, E100) and shot prose (`prose`, E103, E105, E106, E209, E212)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shotc.diagnostics import Diagnostic, Problems, Span
from shotc.language.durations import shot_seconds
from shotc.language.elements import read_element
from shotc.language.frames import keyword_of, read_frame
from shotc.language.lexer import Line, LineKind
from shotc.language.parser import Node
from shotc.language.prose import line_span, shot_prose, wrong_case_directive
from shotc.language.syntax import Element, Frame, Include, Scene, Script, Setting, Shot

_FRAMES = frozenset({LineKind.FIRST_FRAME, LineKind.LAST_FRAME})
# Fountain's scene headings (`INT. FLAT - MORNING`): a writer meant a SCENE
_HEADING = re.compile(r"(?i)(?:int\.?/ext|i/e|int|ext|est)[. ]\s*\S")


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
        self.diagnostics = Problems()
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
        self.diagnostics.add(code, message, span, help)

    # -- loose lines: the title page, a scene's preamble, and what follows an element block

    def loose(self, line: Line) -> None:
        kind = line.kind
        if kind != LineKind.PROSE:
            self.prose_run = False
        if kind == LineKind.BLANK:
            return
        if self.place == "stray":
            # language.md §5: the lines from a stray SHOT up to the first SCENE are skipped
            # (ELEMENT blocks among them still declare their elements)
            return
        if self.place == "title":
            self.library_lines.add(line.number)
        if kind == LineKind.PROSE:
            self.stray_prose(line)
        elif kind == LineKind.SETTING:
            self.setting(line)
        elif kind in _FRAMES:
            self.frame(line)
        elif kind == LineKind.INCLUDE:
            if self.place == "title":
                self.include(line)
            else:
                self.report(
                    "E105",
                    "`INCLUDE` is only allowed in the title page, before the first "
                    "`SCENE` or `SHOT`",
                    line_span(line, self.file),
                )
        elif kind == LineKind.REFERENCE:
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
            body = line.clean(line.arg, line.end)
            help = (
                f"a scene heading? write `SCENE {body}`"
                if not forced and _HEADING.match(body)
                else "add `SHOT <n>s` above it"
            )
            self.report("E101", "prose outside a shot", line_span(line, self.file), help)
        self.prose_run = True

    def setting(self, line: Line) -> None:
        key_end = line.text.index(":", line.start)
        key = line.text[line.start : key_end].rstrip()
        value_start = line.arg + (len(line.text[line.arg :]) - len(line.text[line.arg :].lstrip()))
        value = line.clean(value_start, line.end) if value_start < line.end else ""
        key_span = Span(
            self.file, line.number, line.start + 1, line.number, line.start + len(key) + 1
        )
        value_span = (
            Span(self.file, line.number, value_start + 1, line.number, line.end + 1)
            if value
            else key_span
        )
        setting = Setting(key, value, line_span(line, self.file), key_span, value_span)
        if setting.name == "voice":
            self.report(
                "E206",
                "`Voice` outside an element block",
                key_span,
                "it belongs in an `ELEMENT` block, among the element's references",
            )
        elif self.place == "title":
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
                f"`{keyword_of(line)}` {where}",
                line_span(line, self.file),
                "frames go in a scene's preamble, between `SCENE` and its first `SHOT`",
            )
            return
        frame = read_frame(line, self.file, self.diagnostics)
        if frame is not None:
            target.frames.append(frame)

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
        element, rest, lines = read_element(node, self.file, self.diagnostics)
        self.elements.append(element)
        self.library_lines |= lines
        self.prose_run = False
        for line in rest:
            self.loose(line)

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
        seconds = shot_seconds(header, self.file, self.diagnostics)
        prose = shot_prose(lines, self.file)
        self.diagnostics.extend(prose.diagnostics)
        scene = self.scenes[-1] if self.has_scenes else self.implicit
        scene.shots.append(
            Shot(
                seconds,
                prose.prompt,
                prose.cues,
                line_span(header, self.file),
                prose.paragraphs,
                prose.unclosed_note,
            )
        )
        self.place = "shots"

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
