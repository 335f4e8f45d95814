"""The compiler's front door: source files in, diagnostics and request dicts out.

Orchestrates the stages (source → lexer → parser → AST → checks → emit → schema) for `check`,
`build`, `plan` and `run`, and resolves `INCLUDE`s. Imports nothing from the run machinery.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shotc.diagnostics import Diagnostic, Problems, Span, has_errors, sorted_diagnostics
from shotc.language.checks import (
    MediaChecker,
    ResolvedElement,
    SceneContext,
    check_element,
    check_scene,
    check_scene_id,
    cued_names,
    slugify,
    unused_elements,
)
from shotc.language.continuity import resolve_after
from shotc.language.settings import Value, resolve
from shotc.language.source import ParsedFile, SourceError, parse_text, read_text
from shotc.language.syntax import Element, Include, Scene, Script, Voice
from shotc.request.emit import request_for
from shotc.request.types import CreateTaskRequest

if TYPE_CHECKING:
    from shotc.language.scene_memo import SceneMemo

MAX_INCLUDE_DEPTH = 100


class ScriptReadError(Exception):
    """A top-level script that cannot be read or decoded (CLI exit 4)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class CompilerBug(Exception):
    """An emitted request failed the request schema: a bug in shotc, not in the script."""


@dataclass(frozen=True, slots=True)
class CompiledScene:
    """One scene, compiled: the createTask body plus what `plan` and `run` show about it."""

    scene_id: str
    script: Path  # absolute path of the .shot file the scene is in
    film_title: str  # the Title setting, or the file stem
    request: CreateTaskRequest  # local media as absolute file:// URIs
    shots: int
    seconds: int
    mode: str
    sound: bool
    span: Span  # the SCENE line (or the first SHOT of a file without scenes)
    title: str = ""  # the SCENE line's title (the film's title for a file without scenes)
    takes: int = 1  # `Takes: N` (language-1.1 §5): how many takes `run` makes


@dataclass(slots=True)
class CompileResult:
    scenes: list[CompiledScene] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # every file read (scripts and their includes), parsed: the editor reuses them
    files: dict[Path, Script] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass(slots=True)
class _Walk:
    """One top-level file's walk through its includes."""

    settings: dict[Path, dict[str, Value]] = field(default_factory=dict)  # files expanded
    elements: list[tuple[Element, Path]] = field(default_factory=list)  # with their directory
    failed: bool = False  # some INCLUDE failed (E404): cues may be missing


# (text, file as shown, stem) -> the front end's result; the editor passes a caching one
Parser = Callable[[str, str, str], ParsedFile]


class _Session:
    def __init__(
        self,
        sources: Mapping[Path, str],
        parser: Parser = parse_text,
        memo: SceneMemo | None = None,
    ) -> None:
        self.sources = sources
        self.parser = parser
        self.memo = memo
        self.parsed: dict[Path, ParsedFile] = {}
        self.unreadable: dict[Path, str] = {}
        self.own_settings: dict[Path, dict[str, Value]] = {}
        self.elements: dict[int, ResolvedElement | None] = {}
        self.media = MediaChecker()
        self.diagnostics = Problems()
        self.scene_ids: dict[str, Span] = {}
        self.top_level: set[Path] = set()
        self.pending_e305: list[tuple[Diagnostic, frozenset[int]]] = []

    def load(self, key: Path, display: str, library: bool) -> ParsedFile | None:
        if key in self.unreadable:
            return None
        if key not in self.parsed:
            try:
                text = self.sources[key] if key in self.sources else read_text(key)
            except SourceError as exc:
                self.unreadable[key] = str(exc)
                return None
            stem = os.path.splitext(os.path.basename(display))[0]
            parsed = self.parsed[key] = self.parser(text, display, stem)
            lines = parsed.script.library_lines
            self.diagnostics.extend(
                d for d in parsed.diagnostics if not library or d.span.line in lines
            )
            self.own_settings[key] = resolve(parsed.script.settings, self.diagnostics)
        return self.parsed[key]

    def expand(self, key: Path, stack: tuple[Path, ...], walk: _Walk) -> dict[str, Value]:
        """The settings `key` brings (language.md §7: its includes in order, later over earlier,
        then its own), appending the elements of every file it reaches to `walk.elements`.

        Each file is expanded once per walk: a file reached again (a diamond) gives its settings
        from `walk.settings` and adds no elements, as its elements are already in the list at
        their first place. So the work is linear in the files and INCLUDEs, not in the paths
        through them (a diamond 25 levels deep has 2^25 paths).
        """
        script = self.parsed[key].script
        base = key.parent
        settings: dict[str, Value] = {}
        items: list[tuple[int, Element | Include]] = [(e.span.line, e) for e in script.elements]
        items += [(i.span.line, i) for i in script.includes]
        for _line, item in sorted(items, key=lambda pair: pair[0]):
            if isinstance(item, Element):
                walk.elements.append((item, base))
                continue
            target = self.include(item, key, script.path, stack, walk)
            if target is None:
                walk.failed = True
                continue
            if target not in walk.settings:
                walk.settings[target] = self.expand(target, (*stack, target), walk)
            settings.update(walk.settings[target])
        settings.update(self.own_settings[key])
        return settings

    def include(
        self, item: Include, key: Path, display: str, stack: tuple[Path, ...], walk: _Walk
    ) -> Path | None:
        target = Path(os.path.abspath(key.parent / os.path.expanduser(item.path)))
        if target in walk.settings:
            return target  # expanded already in this walk: nothing more to read or check
        shown = os.path.normpath(os.path.join(os.path.dirname(display), item.path))
        if len(stack) > MAX_INCLUDE_DEPTH:
            self.diagnostics.add(
                "E404",
                f"includes nested more than {MAX_INCLUDE_DEPTH} deep",
                item.span,
                "flatten the chain of INCLUDEs",
            )
            return None
        if target in stack:
            chain = " → ".join([*(p.name for p in stack[stack.index(target) :]), target.name])
            self.diagnostics.add(
                "E404",
                f"include cycle: {chain}",
                item.span,
                "remove one of the INCLUDEs of the cycle",
            )
            return None
        if self.load(target, shown, library=target not in self.top_level) is None:
            self.diagnostics.add(
                "E404",
                f"cannot include `{item.path}`: {self.unreadable[target]}",
                item.span,
                _missing_help(target, item.path),
            )
            return None
        return target

    def resolved_element(self, element: Element, base: Path) -> ResolvedElement | None:
        key = id(element)
        if key not in self.elements:
            found = Problems()
            self.elements[key] = check_element(element, base, self.media, found)
            for diag in found:
                if diag.code == "E305":
                    lines = {element.span.line, *(ref.span.line for ref in element.references)}
                    self.pending_e305.append((diag, frozenset(lines)))
                else:
                    self.diagnostics.append(diag)
        return self.elements[key]

    def settle_e305(self) -> None:
        """language.md §9: E305 only when neither the ELEMENT line nor a line of its block
        already has an error (of any code: E202, E100, ... are known only at the end)."""
        flagged = {(d.span.file, d.span.line) for d in self.diagnostics if d.is_error}
        for diag, lines in self.pending_e305:
            if not any((diag.span.file, line) in flagged for line in lines):
                self.diagnostics.append(diag)

    def compile_file(self, key: Path, for_build: bool, out: list[CompiledScene]) -> None:
        script = self.parsed[key].script
        walk = _Walk()
        settings = self.expand(key, (key,), walk)
        declared: dict[str, ResolvedElement | None] = {}
        voices: dict[str, Voice] = {}
        for element, base in walk.elements:
            resolved = self.resolved_element(element, base)
            if element.name is None:
                continue
            if element.name in declared:
                self.diagnostics.add(
                    "E202",
                    f"element `@{element.name}` is declared twice",
                    element.name_span,
                    "rename one of them; names are unique across a file and its includes",
                )
            else:
                declared[element.name] = resolved
                if element.voice is not None:
                    voices[element.name] = element.voice
        ctx = SceneContext(settings, declared, key.parent, self.media, voices, walk.failed)
        title = settings.get("title")
        film_title = str(title.value) if title is not None else script.stem
        ids = [
            slugify(script.stem if scene.implicit else scene.title, scene.index)
            for scene in script.scenes
        ]
        ctx.after = resolve_after(script.scenes, ids, self.diagnostics)
        checks = None
        if self.memo is not None:  # the editor's: unchanged scenes are not checked again
            context = (for_build, film_title, settings, declared, voices, walk.failed)
            checks = self.memo.begin(key, context, ctx)
        for scene, scene_id in zip(script.scenes, ids, strict=True):
            if scene_id in self.scene_ids:
                first = self.scene_ids[scene_id]
                self.diagnostics.add(
                    "E205",
                    f"a second scene with the id `{scene_id}`",
                    scene.span,
                    f"the first is at {first.file}:{first.line}; rename one of them",
                )
            else:
                self.scene_ids[scene_id] = scene.span
            check = functools.partial(self.compile_scene, scene, scene_id, ctx, key, film_title)
            compiled = (
                check() if checks is None else checks.run(scene, scene_id, self.diagnostics, check)
            )
            if compiled is not None:
                out.append(compiled)
        unused_elements(script, cued_names(script.scenes, voices), self.diagnostics)
        if for_build and not script.has_shots:
            self.diagnostics.add(
                "E312",
                "this file has no shots: there is nothing to build",
                Span.point(script.path, 1, 1),
                "add a `SHOT 5s` with prose, or INCLUDE this file from a script",
            )

    def compile_scene(
        self, scene: Scene, scene_id: str, ctx: SceneContext, key: Path, film_title: str
    ) -> CompiledScene | None:
        """One scene's own checks and, when it has no error, its compiled request."""
        check_scene_id(scene, scene_id, self.diagnostics)
        checked = check_scene(scene, scene_id, ctx, self.diagnostics)
        if checked is None:
            return None
        request = request_for(checked)
        body = request["input"]
        return CompiledScene(
            scene_id,
            key,
            film_title,
            request,
            len(scene.shots),
            int(body["duration"]),
            body["mode"],
            body["sound"],
            scene.span,
            film_title if scene.implicit else scene.title,
            _takes(checked.settings),
        )


def _missing_help(target: Path, written: str) -> str:
    """A did-you-mean among the files beside a missing include, else where paths start."""
    from shotc.suggest import did_you_mean

    try:
        names = [p.name for p in target.parent.iterdir() if p.is_file()][:1000]
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        names = []
    guess = did_you_mean(target.name, names) if target.name not in names else None
    if guess is not None:
        shown = os.path.join(os.path.dirname(written), guess)
        return f"did you mean `{shown}`? (paths are relative to the including file)"
    return "paths are relative to the including file"


def _takes(settings: Mapping[str, Value]) -> int:
    """`Takes: N` (checked by `settings.check`: ASCII digits 1 to 8), default 1."""
    value = settings.get("takes")
    return int(str(value.value)) if value is not None else 1


def compile_paths(
    paths: Sequence[Path],
    *,
    for_build: bool = True,
    sources: Mapping[Path, str] | None = None,
    allow: frozenset[str] = frozenset(),
    parser: Parser = parse_text,
    memo: SceneMemo | None = None,
) -> CompileResult:
    """Compile every script in `paths`. `for_build` adds the build-only checks (E312) and
    validates every request against the request schema. `sources` gives the text of some
    files instead of reading them (an editor's buffer, `fmt`'s output before it is written):
    keys are paths as passed in `paths`; includes and media stay relative to each path.
    `allow` names warnings to leave out (`--allow`, `shotc.allow`). `parser` replaces the
    front end with one giving the same result (the language server's reuses unchanged scenes);
    `memo` remembers checked scenes for the next compile (the language server's, likewise).

    Raises ScriptReadError for a top-level file that cannot be read or decoded, and
    CompilerBug when an emitted request fails the schema.
    """
    # The AST and requests hold no reference cycles, yet the cyclic collector would rescan
    # the whole growing heap again and again: per-scene cost rose ~1.5x from 100 to 10,000
    # scenes with it, ~1.1x without. Suspend it while compiling; restore its state after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _compile(paths, for_build, sources or {}, parser, memo)
    finally:
        if collecting:
            gc.enable()
    if allow:
        result.diagnostics = [d for d in result.diagnostics if d.code not in allow]
    return result


def _compile(
    paths: Sequence[Path],
    for_build: bool,
    sources: Mapping[Path, str],
    parser: Parser,
    memo: SceneMemo | None,
) -> CompileResult:
    texts = {Path(os.path.abspath(p)): text for p, text in sources.items()}
    session = _Session(texts, parser, memo)
    keys = [Path(os.path.abspath(p)) for p in paths]
    session.top_level.update(keys)
    for path, key in zip(paths, keys, strict=True):
        if session.load(key, str(path), library=False) is None:
            raise ScriptReadError(str(path), session.unreadable[key])
    scenes: list[CompiledScene] = []
    for key in dict.fromkeys(keys):
        session.compile_file(key, for_build, scenes)
    session.settle_e305()
    diagnostics = sorted_diagnostics(list(dict.fromkeys(session.diagnostics)))
    files = {key: parsed.script for key, parsed in session.parsed.items()}
    result = CompileResult(scenes, diagnostics, files)
    if for_build and result.ok:
        _validate(scenes)
    return result


def _validate(scenes: list[CompiledScene]) -> None:
    from shotc.request.validation import validate_request

    for scene in scenes:
        problems = validate_request(scene.request)
        if problems:
            detail = "; ".join(f"{p.path}: {p.message}" for p in problems)
            raise CompilerBug(
                f"the request for scene `{scene.scene_id}` fails the request "
                f"schema ({detail}). This is a bug in shotc, not in your script: "
                "please report it with the script"
            )
