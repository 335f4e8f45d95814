"""The language server's incremental front end (shotc/lsp/chunks.py) is exact: after any
sequence of edits, parsing scene by scene with reused chunks gives what a full parse gives,
and the diagnostics a document gets equal a full check's. Edits are drawn from the
robustness tests' fragments, so they cut through SCENE lines, notes and CRLFs."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_robustness import FRAGMENTS

from shotc.language.scene_memo import SceneMemo
from shotc.language.source import parse_text
from shotc.lsp import features, outline
from shotc.lsp.analysis import analyse
from shotc.lsp.chunks import ChunkParser, split_chunks

_PIECES = [
    *FRAGMENTS,
    "SCENE a\n",
    "\nSCENE b\n",
    "SHOT 3s\n",
    "x [[ y\n",
    " SCENE c [[ n ]]\n",
    "ELEMENT @v: x\n  Voice: low\n  Voice: high\n",  # E213 names a line in its text
    "\n\n",
]
_text = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=4)), max_size=40).map("".join)
# (where, as a fraction of the text; how many characters to delete; what to insert)
_edit = st.tuples(st.floats(0, 1), st.integers(0, 8), st.one_of(st.sampled_from(_PIECES), _text))
_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _apply(text: str, edit: tuple[float, int, str]) -> str:
    where, delete, insert = edit
    at = int(where * len(text))
    return text[:at] + insert + text[at + delete :]


def _scenes_text(n: int) -> str:
    return "Title: T\n\n" + "".join(f"SCENE s{i}\nSHOT 3s\nThe dog {i}.\n\n" for i in range(n))


@given(text=_text)
def test_the_chunks_join_to_the_text(text: str) -> None:
    chunks = split_chunks(text)
    assert "".join(body for _first, body in chunks) == text
    assert chunks[0][0] == 1


@_settings
@given(start=_text, edits=st.lists(_edit, min_size=1, max_size=8))
def test_incremental_parse_equals_a_full_parse(
    start: str, edits: list[tuple[float, int, str]]
) -> None:
    parser = ChunkParser()
    text = start
    for edit in [(0.0, 0, ""), *edits]:
        text = _apply(text, edit)
        assert parser(text, "f.shot", "f") == parse_text(text, "f.shot", "f")


def _at(index: int) -> float:
    """The `where` of an edit at `index` in the diagnostics test's starting text (the middle
    of the index's interval, so the float rounds back to it)."""
    return (index + 0.5) / len(_START)


_START = "INCLUDE cast.shot\n" + _scenes_text(6)
_EOL1 = len("INCLUDE cast.shot")  # where line 1's LF is


@_settings
@given(cast=_text, edits=st.lists(_edit, min_size=1, max_size=6))
# a lone CR above unchanged scenes: their LSP lines move, their compiler lines do not, so the
# outline must not reuse their symbols from the version before
@example(cast="", edits=[(0.0, 0, "\r")])
# a CRLF made by an edit (a CR inserted before an LF), then split by the next edit
@example(cast="", edits=[(_at(_EOL1), 0, "\r"), (_at(_EOL1 + 1), 0, "x")])
# the CR of a CRLF deleted, then put back
@example(cast="", edits=[(_at(_EOL1), 0, "\r"), (_at(_EOL1), 1, ""), (_at(_EOL1), 0, "\r")])
# a CR at the end of the text, then one in the middle of a scene
@example(cast="", edits=[(1.0, 0, "\r"), (0.5, 0, "\r")])
@example(cast="\r", edits=[(1.0, 0, "\r\n"), (1.0, 0, "\r")])
def test_incremental_diagnostics_equal_a_full_check(
    tmp_path: Path, cast: str, edits: list[tuple[float, int, str]]
) -> None:
    film, included = tmp_path / "film.shot", tmp_path / "cast.shot"
    buffers = {included: "ELEMENT @dog: a dog\n  https://x.io/a.jpg\n" + cast}
    parser = ChunkParser()
    memo = SceneMemo(parser.moved_from)
    text = _START
    earlier = None
    for edit in [(0.0, 0, ""), *edits]:
        text = _apply(text, edit)
        expected = analyse(film, text, buffers)
        got = analyse(film, text, buffers, parser=parser, memo=memo)
        assert got.diagnostics == expected.diagnostics
        assert got.script == expected.script
        assert [s.scene_id for s in got.scenes] == [s.scene_id for s in expected.scenes]
        if earlier is not None:  # as the server does: reuse the LSP objects of unchanged parts
            got.inherit(earlier)
        assert outline.document_symbols(got) == outline.document_symbols(expected)
        assert features.diagnostics(got) == features.diagnostics(expected)
        earlier = got


def test_an_edit_in_one_scene_reparses_only_that_scene() -> None:
    parser = ChunkParser()
    text = _scenes_text(50)
    parser(text, "f.shot", "f")
    before = parser.parsed_chunks
    edited = text.replace("The dog 7.", "The dog 7, again.")
    result = parser(edited, "f.shot", "f")
    assert parser.parsed_chunks - before == 1
    assert result == parse_text(edited, "f.shot", "f")


def test_the_converter_writes_what_pygls_writes() -> None:
    # the memo must be invisible: same JSON, the first time and when an object is reused
    import json

    from lsprotocol import types as lsp
    from pygls.protocol import default_converter

    from shotc.lsp import wire

    ours, theirs = wire.converter(), default_converter()  # type: ignore[no-untyped-call]
    analysis = analyse(Path("/tmp/film.shot"), _scenes_text(5) + "SCENE x\nSHOT 99s\n@nobody\n")
    symbols, diagnostics = outline.document_symbols(analysis), features.diagnostics(analysis)
    assert diagnostics
    messages = [
        lsp.DocumentSymbolResponse(id=1, result=symbols),
        lsp.PublishDiagnosticsNotification(
            params=lsp.PublishDiagnosticsParams(uri="file:///tmp/f.shot", diagnostics=diagnostics)
        ),
    ]
    for message in messages * 2:
        assert json.dumps(message, default=ours.unstructure) == json.dumps(
            message, default=theirs.unstructure
        )


def test_lines_inserted_above_move_the_chunks_below_without_parsing_them() -> None:
    parser = ChunkParser()
    text = _scenes_text(50)
    parser(text, "f.shot", "f")
    before = parser.parsed_chunks
    edited = text.replace("The dog 7.", "The dog 7.\n\n")
    assert parser(edited, "f.shot", "f") == parse_text(edited, "f.shot", "f")
    assert parser.parsed_chunks - before == 1


def test_a_chunk_whose_diagnostic_names_a_line_is_parsed_again_when_moved() -> None:
    parser = ChunkParser()
    voices = "SCENE v\nELEMENT @v: x\n  Voice: low\n  Voice: high\nSHOT 3s\nx\n"
    text = _scenes_text(3) + voices
    parser(text, "f.shot", "f")
    edited = "\n" + text
    assert parser(edited, "f.shot", "f") == parse_text(edited, "f.shot", "f")


def test_the_protocol_writes_the_json_pygls_writes() -> None:
    # the spliced lists of kept objects, compact: the same JSON values as pygls' own, the
    # first time, when the objects (and the outline's list) are sent again, and after a change
    import json

    from lsprotocol import types as lsp
    from pygls.protocol import LanguageServerProtocol, default_converter

    from shotc.lsp import wire
    from shotc.lsp.server import ShotServer

    ours = wire.Protocol(ShotServer(), wire.converter())
    theirs = LanguageServerProtocol(ShotServer(), default_converter())  # type: ignore[no-untyped-call]
    parser = ChunkParser()
    first = analyse(Path("/tmp/film.shot"), _scenes_text(5) + "SCENE x\nSHOT 99s\n@nobody\n")
    text = first.text.replace("SHOT 99s", "SHOT 98s")
    second = analyse(Path("/tmp/film.shot"), text, parser=parser)
    second.inherit(first)
    for analysis in (first, first, second):
        symbols, diagnostics = outline.document_symbols(analysis), features.diagnostics(analysis)
        assert diagnostics
        messages: list[object] = [
            lsp.DocumentSymbolResponse(id=1, result=symbols),
            lsp.PublishDiagnosticsNotification(
                params=lsp.PublishDiagnosticsParams(uri="file:///f.shot", diagnostics=diagnostics)
            ),
            lsp.PublishDiagnosticsNotification(
                params=lsp.PublishDiagnosticsParams(uri="file:///f.shot", diagnostics=[])
            ),
            lsp.HoverResponse(id=2, result=None),
        ]
        assert [wire._kept_list(m) is not None for m in messages] == [True, True, False, False]
        for message in messages:
            written = ours.encode(message)
            expected = json.dumps(message, default=theirs._serialize_message)
            assert json.loads(written) == json.loads(expected)
