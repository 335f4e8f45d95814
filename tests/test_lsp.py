"""`shotc lsp` end to end through the real protocol (pytest-lsp starts `python -m shotc lsp`
on stdio): diagnostics of unsaved edits, completion, hover, definition across an INCLUDE,
the outline, folding, formatting, quick fixes, and a server that survives broken input."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient
from test_robustness import FRAGMENTS

CAST = """\
ELEMENT @element_dog: a scruffy brown terrier
  Voice: a low, gruff bark
  https://example.com/dog-front.jpeg
  https://example.com/dog-side.png
"""
FILM = """\
Title: Test
Mode: pro
INCLUDE cast.shot

SCENE Dawn on the cliff
Aspect: 16:9

SHOT 5s
The dog runs along the cliff @element_dog at dawn.

SCENE The storm
Aspect: 16:9

SHOT 3s
Rain lashes @element_dog.
SHOT 2s
Thunder.
"""
TIMEOUT = 20.0


@pytest_lsp.fixture(  # type: ignore[untyped-decorator]
    config=ClientServerConfig(server_command=[sys.executable, "-m", "shotc", "lsp"])
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "cast.shot").write_text(CAST, "utf-8")
    film = tmp_path / "film.shot"
    film.write_text(FILM, "utf-8")
    return film


async def _open(client: LanguageClient, path: Path, text: str) -> list[lsp.Diagnostic]:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=path.as_uri(), language_id="shot", version=1, text=text)
        )
    )
    await asyncio.wait_for(client.wait_for_notification("textDocument/publishDiagnostics"), TIMEOUT)
    return list(client.diagnostics[path.as_uri()])


async def _edit(
    client: LanguageClient, path: Path, text: str, version: int
) -> list[lsp.Diagnostic]:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    await asyncio.wait_for(client.wait_for_notification("textDocument/publishDiagnostics"), TIMEOUT)
    return list(client.diagnostics[path.as_uri()])


def _doc(path: Path) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=path.as_uri())


@pytest.mark.asyncio
async def test_diagnostics_follow_unsaved_edits(client: LanguageClient, project: Path) -> None:
    diagnostics = await _open(client, project, FILM)
    assert [d.code for d in diagnostics if d.severity == lsp.DiagnosticSeverity.Error] == []
    broken = FILM.replace("cliff @element_dog", "cliff @element_dgo")
    diagnostics = await _edit(client, project, broken, 2)
    e201 = [d for d in diagnostics if d.code == "E201"]
    assert len(e201) == 1
    # line 9, columns 30..42 in the compiler's 1-based numbering
    assert e201[0].range == lsp.Range(lsp.Position(8, 29), lsp.Position(8, 41))
    assert e201[0].severity == lsp.DiagnosticSeverity.Error
    assert "did you mean `@element_dog`" in e201[0].message
    assert e201[0].code_description is not None
    assert e201[0].code_description.href.endswith("/explain/E201.md")
    assert project.read_text("utf-8") == FILM  # nothing was saved


@pytest.mark.asyncio
async def test_utf16_columns(client: LanguageClient, project: Path) -> None:
    # an astral character before the cue counts two UTF-16 units
    text = FILM.replace("The dog runs", "🐕 The dog runs").replace(
        "@element_dog at", "@element_dgo at"
    )
    diagnostics = await _open(client, project, text)
    e201 = next(d for d in diagnostics if d.code == "E201")
    assert e201.range.start == lsp.Position(8, 29 + 3)


@pytest.mark.asyncio
async def test_completion(client: LanguageClient, project: Path) -> None:
    text = FILM + "\nSCENE Night\nFIRST FRAME after Da\n\nSHOT 2s\nThe @el\n# @\nMo"
    await _open(client, project, text)
    lines = text.split("\n")

    async def labels(line: int, character: int | None = None) -> list[str]:
        char = len(lines[line]) if character is None else character
        result = await client.text_document_completion_async(
            lsp.CompletionParams(_doc(project), lsp.Position(line, char))
        )
        assert isinstance(result, lsp.CompletionList)
        return [item.label for item in result.items]

    cue_line = lines.index("The @el")
    assert await labels(cue_line) == ["@element_dog"]  # from the INCLUDEd cast
    assert "Dawn on the cliff" in await labels(lines.index("FIRST FRAME after Da"))
    assert await labels(lines.index("# @")) == []  # nothing in comments
    assert "Mode" in await labels(1, 2)  # a setting key on the title page
    values = await labels(1)  # `Mode: pro`: the values
    assert values == ["std", "pro", "4K"]
    assert "SHOT" in await labels(len(lines) - 1, 0)


@pytest.mark.asyncio
async def test_no_completion_inside_a_note(client: LanguageClient, project: Path) -> None:
    text = FILM + "[[ a note about @el"
    await _open(client, project, text)
    last = text.split("\n")[-1]
    result = await client.text_document_completion_async(
        lsp.CompletionParams(_doc(project), lsp.Position(len(text.split("\n")) - 1, len(last)))
    )
    assert isinstance(result, lsp.CompletionList)
    assert list(result.items) == []


@pytest.mark.asyncio
async def test_hover_and_definition(client: LanguageClient, project: Path) -> None:
    await _open(client, project, FILM)
    hover = await client.text_document_hover_async(
        lsp.HoverParams(_doc(project), lsp.Position(14, 15))
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "scruffy brown terrier" in hover.contents.value
    assert "dog-front.jpeg" in hover.contents.value
    assert "Voice: a low, gruff bark" in hover.contents.value
    setting = await client.text_document_hover_async(
        lsp.HoverParams(_doc(project), lsp.Position(1, 1))
    )
    assert setting is not None and "std" in str(setting.contents)
    where = await client.text_document_definition_async(
        lsp.DefinitionParams(_doc(project), lsp.Position(14, 15))
    )
    assert isinstance(where, lsp.Location)
    assert where.uri == (project.parent / "cast.shot").as_uri()
    assert where.range.start == lsp.Position(0, 8)
    include = await client.text_document_definition_async(
        lsp.DefinitionParams(_doc(project), lsp.Position(2, 3))
    )
    assert isinstance(include, lsp.Location)
    assert include.uri == (project.parent / "cast.shot").as_uri()


@pytest.mark.asyncio
async def test_hover_on_a_diagnostic_shows_its_explain_page(
    client: LanguageClient, project: Path
) -> None:
    await _open(client, project, FILM.replace("cliff @element_dog", "cliff @element_dgo"))
    hover = await client.text_document_hover_async(
        lsp.HoverParams(_doc(project), lsp.Position(8, 32))
    )
    assert hover is not None and "E201" in str(hover.contents)


@pytest.mark.asyncio
async def test_outline_and_folding(client: LanguageClient, project: Path) -> None:
    await _open(client, project, FILM)
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(_doc(project))
    )
    assert symbols is not None
    scenes = [s for s in symbols if isinstance(s, lsp.DocumentSymbol)]
    assert [s.name for s in scenes] == ["Dawn on the cliff", "The storm"]
    # pro without sound: 18 credits per second (the default price table)
    assert scenes[0].detail is not None and scenes[0].detail.startswith("5s · ~90 credits")
    assert [c.name for c in scenes[1].children or []] == ["SHOT 3s", "SHOT 2s"]
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(_doc(project)))
    assert folds is not None
    spans = {(f.start_line, f.end_line) for f in folds}
    assert {(4, 8), (7, 8), (10, 16), (13, 14), (15, 16)} <= spans


@pytest.mark.asyncio
async def test_formatting_and_quick_fix(client: LanguageClient, project: Path) -> None:
    messy = FILM.replace("SHOT 5s", "SHOT  5")
    await _open(client, project, messy)
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(_doc(project), lsp.FormattingOptions(2, True))
    )
    assert edits is not None and len(edits) == 1
    assert "SHOT 5s" in edits[0].new_text and "SHOT  5" not in edits[0].new_text
    broken = FILM.replace("cliff @element_dog", "cliff @element_dgo")
    await _edit(client, project, broken, 2)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            _doc(project),
            lsp.Range(lsp.Position(8, 0), lsp.Position(8, 0)),
            lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None
    action = next(a for a in actions if isinstance(a, lsp.CodeAction))
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[project.as_uri()]
    assert edit.new_text == "@element_dog"
    assert edit.range == lsp.Range(lsp.Position(8, 29), lsp.Position(8, 41))


@pytest.mark.asyncio
async def test_editing_the_cast_rechecks_the_script(client: LanguageClient, project: Path) -> None:
    await _open(client, project, FILM)
    cast = project.parent / "cast.shot"
    await _open(client, cast, CAST)
    renamed = CAST.replace("@element_dog", "@element_hound")
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=cast.as_uri(), version=2),
            [lsp.TextDocumentContentChangeWholeDocument(text=renamed)],
        )
    )

    async def script_has_e201() -> None:
        while not any(d.code == "E201" for d in client.diagnostics.get(project.as_uri(), [])):
            await client.wait_for_notification("textDocument/publishDiagnostics")

    await asyncio.wait_for(script_has_e201(), TIMEOUT)


@pytest.mark.asyncio
async def test_the_server_survives_broken_input(client: LanguageClient, project: Path) -> None:
    """Random scripts (the robustness tests' fragments), fed as edits, each followed by every
    request at a random position: the server answers them all and stays up."""
    rng = random.Random(20261201)
    await _open(client, project, FILM)
    for version in range(2, 42):
        text = "".join(
            rng.choice(FRAGMENTS) if rng.random() < 0.8 else chr(rng.randrange(0x20, 0x3000))
            for _ in range(rng.randrange(0, 60))
        )
        await _edit(client, project, text, version)
        line = rng.randrange(0, text.count("\n") + 2)
        position = lsp.Position(line, rng.randrange(0, 12))
        await client.text_document_completion_async(lsp.CompletionParams(_doc(project), position))
        await client.text_document_hover_async(lsp.HoverParams(_doc(project), position))
        await client.text_document_definition_async(lsp.DefinitionParams(_doc(project), position))
        await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(_doc(project)))
        await client.text_document_folding_range_async(lsp.FoldingRangeParams(_doc(project)))
        await client.text_document_formatting_async(
            lsp.DocumentFormattingParams(_doc(project), lsp.FormattingOptions(2, True))
        )
    assert client.error is None
    diagnostics = await _edit(client, project, FILM, 99)
    assert not [d for d in diagnostics if d.severity == lsp.DiagnosticSeverity.Error]
