"""What the language server knows about one document version: its AST, its diagnostics as
`shotc check` reports them (unsaved buffers of other open files included), the elements it can
cue (its own and its includes'), its scenes and their estimated cost.

Built once per document version and then only read by the features.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shotc.diagnostics import Diagnostic, Span
from shotc.language.checks import slugify
from shotc.language.compiler import CompiledScene, Parser, ScriptReadError, compile_paths
from shotc.language.include_graph import include_target, reachable
from shotc.language.lexer import split_lines
from shotc.language.scene_memo import SceneMemo
from shotc.language.source import parse_text
from shotc.language.syntax import Element, Include, Scene, Script
from shotc.lsp.positions import PositionMap

if TYPE_CHECKING:
    from lsprotocol import types as lsp

    from shotc.run.config import Config


@dataclass(frozen=True, slots=True)
class KnownElement:
    """An element the document may cue, with the file that declares it."""

    element: Element
    path: Path

    @property
    def name(self) -> str:
        return self.element.name or ""

    @property
    def voice(self) -> str | None:
        """The element's `Voice:` line (language 1.1 §3), as compiled."""
        return self.element.voice.text if self.element.voice is not None else None


@dataclass(frozen=True, slots=True)
class SceneInfo:
    scene: Scene
    scene_id: str
    seconds: int
    credits: float | None  # None while the scene does not compile
    end_line: int  # the last line of the scene's block (compiler numbering)


@dataclass(frozen=True, slots=True)
class SceneSymbol:
    """A scene's outline symbol and what it was made from: reusable while the scene is the
    same object (its chunk unchanged, shotc/lsp/chunks.py) with the same figures."""

    scene: Scene
    figures: tuple[str, int, float | None, int, str]  # scene id, seconds, credits, end, encoding
    symbol: lsp.DocumentSymbol


@dataclass(slots=True)
class Analysis:
    path: Path
    text: str
    positions: PositionMap
    script: Script
    diagnostics: list[Diagnostic]  # this document's own, as `check` reports them
    elements: dict[str, KnownElement] = field(default_factory=dict)
    includes: list[tuple[Include, Path]] = field(default_factory=list)
    scenes: list[SceneInfo] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # this file and every file it includes
    lines: list[str] = field(default_factory=list)  # compiler lines (LF-split, CR dropped)
    # the outline, made on the first request for this version (shotc/lsp/outline.py), and
    # each scene's symbol by id(scene), kept for the next version to reuse
    outline: list[lsp.DocumentSymbol] | None = None
    scene_symbols: dict[int, SceneSymbol] = field(default_factory=dict)
    # the LSP form of each diagnostic, by (diagnostic, its lines' text, encoding), likewise
    lsp_diagnostics: dict[tuple[Diagnostic, str, str, str], lsp.Diagnostic] = field(
        default_factory=dict
    )

    def inherit(self, earlier: Analysis) -> None:
        """Take over what the version before made that this one may reuse."""
        self.scene_symbols = earlier.scene_symbols
        self.lsp_diagnostics = earlier.lsp_diagnostics

    def scene_named(self, name: str) -> SceneInfo | None:
        """A scene of this file by title or id (`FIRST FRAME after NAME`)."""
        wanted = slugify(name.strip(), 0)
        for info in self.scenes:
            if info.scene_id == wanted or info.scene.title.strip() == name.strip():
                return info
        return None


def analyse(
    path: Path,
    text: str,
    buffers: Mapping[Path, str] | None = None,
    encoding: str = "utf-16",
    parser: Parser = parse_text,
    memo: SceneMemo | None = None,
) -> Analysis:
    """Analyse `text` as the content of `path`; `buffers` holds other open documents.
    `parser` is the front end: the server's `ChunkParser` re-parses only changed scenes, and
    its `memo` keeps the scenes checked, so only changed ones are checked again."""
    path = Path(os.path.abspath(path))
    buffers = dict(buffers or {})
    buffers[path] = text
    display = str(path)
    try:
        result = compile_paths([path], for_build=False, sources=buffers, parser=parser, memo=memo)
    except ScriptReadError:  # cannot happen for a buffer; keep the server alive regardless
        result = None
    if result is not None and path in result.files:
        script = result.files[path]
        diagnostics = [d for d in result.diagnostics if d.span.file == display]
        compiled = {s.scene_id: s for s in result.scenes}
    else:
        parsed = parser(text, display, path.stem)
        script, diagnostics, compiled = parsed.script, list(parsed.diagnostics), {}
    analysis = Analysis(path, text, PositionMap(text, encoding), script, diagnostics)
    analysis.lines = split_lines(text)
    parsed_files = result.files if result is not None else {}
    _walk_includes(analysis, buffers, parsed_files)
    _scenes(analysis, compiled)
    return analysis


def _walk_includes(
    analysis: Analysis, buffers: Mapping[Path, str], parsed: Mapping[Path, Script]
) -> None:
    for include in analysis.script.includes:
        analysis.includes.append((include, include_target(analysis.path, include)))
    order = reachable(analysis.path, analysis.script, buffers, parsed)
    analysis.files = [p for p, _s in order]
    for file_path, script in order:
        for element in script.elements:
            if element.name and element.name not in analysis.elements:
                analysis.elements[element.name] = KnownElement(element, file_path)


def _scenes(analysis: Analysis, compiled: Mapping[str, CompiledScene]) -> None:
    script = analysis.script
    last_line = analysis.text.count("\n") + (0 if analysis.text.endswith("\n") else 1)
    starts = [s.span.line for s in script.scenes]
    prices = _prices(analysis.path)
    for i, scene in enumerate(script.scenes):
        scene_id = slugify(script.stem if scene.implicit else scene.title, scene.index)
        end = starts[i + 1] - 1 if i + 1 < len(starts) else max(last_line, scene.span.line)
        seconds = sum(s.seconds or 0 for s in scene.shots)
        found = compiled.get(scene_id)
        credits = None
        if found is not None:
            try:
                credits = prices.estimate(found.mode, found.sound, found.seconds)
            except Exception:  # an unknown mode in a user's price table: no estimate
                credits = None
            seconds = found.seconds
        analysis.scenes.append(SceneInfo(scene, scene_id, seconds, credits, end))


def _prices(script: Path) -> Config:
    """The project's price table (shotc.toml beside the script), or the defaults."""
    from shotc.run.config import find_config, load_config

    try:
        return load_config(find_config(None, [script]))
    except Exception:  # a broken shotc.toml is `plan`'s to report, not the editor's
        return load_config(None)


def span_range(analysis: Analysis, span: Span) -> tuple[int, int]:
    """The code-point offsets a span covers in this document."""
    start = analysis.positions.offset_of(span.line, span.column)
    end = analysis.positions.offset_of(span.end_line, span.end_column)
    return start, max(start, end)
