"""The document's shape for an editor: the outline (scenes with their seconds and estimated
credits, their shots, the elements), folding ranges per scene, shot and element block,
formatting through `fmt`, and quick fixes (a did-you-mean applied, a wrong-case directive
made a directive)."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from shotc.diagnostics import Span, has_errors
from shotc.lsp.analysis import Analysis, SceneInfo, SceneSymbol
from shotc.lsp.features import to_range

_FIX = re.compile(r"(?:did you mean|write) `([^`]+)`")
# codes whose help names the directive a wrong-case line should be (W505 became E106 in 1.1)
_WRONG_CASE = frozenset({"E106", "W505"})


def _block(analysis: Analysis, first: int, last: int) -> lsp.Range:
    """Lines first..last (1-based, compiler numbering), from column 1 to the end of `last`."""
    lines = analysis.lines
    end_text = lines[last - 1] if last - 1 < len(lines) else ""
    span = Span("", first, 1, last, len(end_text) + 1)
    return to_range(analysis.positions, span)


def _last_content_line(analysis: Analysis, first: int, last: int) -> int:
    lines = analysis.lines
    while last > first and (last - 1 >= len(lines) or not lines[last - 1].strip()):
        last -= 1
    return last


def _credits(value: float | None) -> str:
    return "credits unknown until it compiles" if value is None else f"~{value:,.0f} credits"


def document_symbols(analysis: Analysis) -> list[lsp.DocumentSymbol]:
    """The outline, made once per document version; a scene unchanged since the version
    before keeps its symbol (a 1,000-scene outline is then mostly reused, not rebuilt)."""
    if analysis.outline is not None:
        return analysis.outline
    symbols: list[lsp.DocumentSymbol] = []
    for element in analysis.script.elements:
        if not element.name:
            continue
        last = max([element.span.line, *(r.span.line for r in element.references)])
        symbols.append(
            lsp.DocumentSymbol(
                name=f"@{element.name}",
                detail=element.description or "",
                kind=lsp.SymbolKind.Class,
                range=_block(analysis, element.span.line, last),
                selection_range=to_range(analysis.positions, element.name_span),
            )
        )
    # A symbol is kept only from a version with no lone CR, and reused only in one: then
    # compiler line n is LSP line n - 1 in both, and an unchanged scene's ranges are the same.
    # A lone CR above an unchanged scene shifts its LSP lines while the scene (the same AST
    # object, its chunk reused) does not move in the compiler's numbering.
    reusable = analysis.positions.same_lines
    earlier = analysis.scene_symbols if reusable else {}
    made: dict[int, SceneSymbol] = {}
    encoding = analysis.positions.encoding
    for info in analysis.scenes:
        figures = (info.scene_id, info.seconds, info.credits, info.end_line, encoding)
        found = earlier.get(id(info.scene))
        if found is None or found.scene is not info.scene or found.figures != figures:
            found = SceneSymbol(info.scene, figures, _scene_symbol(analysis, info))
        if reusable:
            made[id(info.scene)] = found
        symbols.append(found.symbol)
    symbols.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    analysis.outline, analysis.scene_symbols = symbols, made
    return symbols


def _scene_symbol(analysis: Analysis, info: SceneInfo) -> lsp.DocumentSymbol:
    scene = info.scene
    shots = []
    bounds = [s.span.line for s in scene.shots] + [info.end_line + 1]
    for i, shot in enumerate(scene.shots):
        last = _last_content_line(analysis, shot.span.line, bounds[i + 1] - 1)
        words = shot.prompt.split()
        excerpt = " ".join(words[:8]) + (" …" if len(words) > 8 else "")
        shots.append(
            lsp.DocumentSymbol(
                name=f"SHOT {shot.seconds}s" if shot.seconds is not None else "SHOT",
                detail=excerpt,
                kind=lsp.SymbolKind.Event,
                range=_block(analysis, shot.span.line, last),
                selection_range=to_range(analysis.positions, shot.span),
            )
        )
    last = _last_content_line(analysis, scene.span.line, info.end_line)
    return lsp.DocumentSymbol(
        name=scene.title or info.scene_id,
        detail=f"{info.seconds}s · {_credits(info.credits)} (estimate)",
        kind=lsp.SymbolKind.Module,
        range=_block(analysis, scene.span.line, last),
        selection_range=to_range(analysis.positions, scene.span),
        children=shots,
    )


def folding_ranges(analysis: Analysis) -> list[lsp.FoldingRange]:
    ranges: list[lsp.FoldingRange] = []

    def add(first: int, last: int) -> None:
        start = analysis.positions.lsp_of(first, 1).line
        end = analysis.positions.lsp_of(last, 1).line
        if end > start:
            ranges.append(lsp.FoldingRange(start_line=start, end_line=end))

    for info in analysis.scenes:
        add(info.scene.span.line, _last_content_line(analysis, info.scene.span.line, info.end_line))
        bounds = [s.span.line for s in info.scene.shots] + [info.end_line + 1]
        for i, shot in enumerate(info.scene.shots):
            add(shot.span.line, _last_content_line(analysis, shot.span.line, bounds[i + 1] - 1))
    for element in analysis.script.elements:
        add(element.span.line, max([element.span.line, *(r.span.line for r in element.references)]))
    return ranges


def formatting(analysis: Analysis) -> list[lsp.TextEdit]:
    """`fmt`'s canonical form as one edit; nothing while the script has errors (fmt refuses
    to rewrite what it cannot prove keeps the same requests)."""
    from shotc.tools.formatter import format_text

    if has_errors(analysis.diagnostics):
        return []
    formatted = format_text(analysis.text)
    if formatted == analysis.text:
        return []
    end = analysis.positions.lsp_position(len(analysis.text))
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(end.line, end.character))
    return [lsp.TextEdit(whole, formatted)]


def code_actions(analysis: Analysis, uri: str, wanted: lsp.Range) -> list[lsp.CodeAction]:
    actions: list[lsp.CodeAction] = []
    for diag in analysis.diagnostics:
        rng = to_range(analysis.positions, diag.span)
        if rng.end.line < wanted.start.line or rng.start.line > wanted.end.line:
            continue
        fix = _FIX.search(diag.help or "")
        if fix is None:
            continue
        replacement = fix.group(1)
        title = (
            f"Make it a directive: `{replacement}`"
            if diag.code in _WRONG_CASE
            else f"Replace with `{replacement}`"
        )
        actions.append(
            lsp.CodeAction(
                title=title,
                kind=lsp.CodeActionKind.QuickFix,
                is_preferred=True,
                diagnostics=[
                    lsp.Diagnostic(range=rng, message=diag.message, code=diag.code, source="shotc")
                ],
                edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(rng, replacement)]}),
            )
        )
    return actions
