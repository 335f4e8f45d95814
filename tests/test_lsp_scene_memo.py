"""The editor's memory of checked scenes (shotc/language/scene_memo.py) is exact: after an edit
that changes what unchanged scenes depend on (an element renamed, a scene named by `FIRST FRAME
after` removed, a media file created, a setting of the title page, the did-you-mean budget,
another scene taking the same id), a compile through the memo gives what a whole compile gives,
diagnostics and compiled scenes alike, while an edit inside one scene checks only that scene."""

from __future__ import annotations

from pathlib import Path

import pytest

from shotc import suggest
from shotc.language.compiler import CompileResult, compile_paths
from shotc.language.scene_memo import SceneMemo
from shotc.lsp.analysis import analyse
from shotc.lsp.chunks import ChunkParser

_CAST = "ELEMENT @dog: a dog\n  https://x.io/a.jpg\n  https://x.io/b.jpg\n\n"


def _scenes(n: int, line: str = "The @dog runs {i}.") -> str:
    return "".join(f"SCENE s{i}\nSHOT 3s\n{line.format(i=i)}\n\n" for i in range(n))


class _Editor:
    """Compiles one file as the language server does (reused chunks, remembered checks) and
    a whole compile beside it; `compile` asserts the two agree."""

    def __init__(self, film: Path) -> None:
        self.film = film
        self.parser = ChunkParser()
        self.memo = SceneMemo(self.parser.moved_from)

    def compile(self, text: str) -> CompileResult:
        sources = {self.film: text}
        got = compile_paths(
            [self.film], for_build=False, sources=sources, parser=self.parser, memo=self.memo
        )
        expected = compile_paths([self.film], for_build=False, sources=sources)
        assert got.diagnostics == expected.diagnostics
        assert got.scenes == expected.scenes
        return got


def _codes(result: CompileResult) -> list[tuple[str | None, int]]:
    return [(d.code, d.span.line) for d in result.diagnostics]


def test_an_edit_in_one_scene_checks_only_that_scene(tmp_path: Path) -> None:
    editor = _Editor(tmp_path / "film.shot")
    text = _CAST + _scenes(50)
    editor.compile(text)
    assert editor.memo.checked == 50
    editor.compile(text.replace("runs 7.", "runs 7 again."))
    assert editor.memo.checked == 51
    editor.compile(text)  # undone: the scene as it was is remembered too
    assert editor.memo.checked == 51


def test_renaming_an_element_rechecks_the_scenes_that_cue_it(tmp_path: Path) -> None:
    editor = _Editor(tmp_path / "film.shot")
    text = _CAST + _scenes(5)
    assert len(editor.compile(text).scenes) == 5
    renamed = editor.compile(text.replace("ELEMENT @dog", "ELEMENT @hound"))
    # every unchanged scene now cues an undeclared element: E201, and none compiles
    assert [c for c, _line in _codes(renamed)].count("E201") == 5
    assert renamed.scenes == []
    assert len(editor.compile(text).scenes) == 5  # and back


def test_removing_a_scene_named_by_after_updates_the_scene_that_names_it(tmp_path: Path) -> None:
    editor = _Editor(tmp_path / "film.shot")
    after = "SCENE later\nFIRST FRAME after s1\nSHOT 3s\nThe @dog sits.\n"
    text = _CAST + _scenes(3) + after
    first = editor.compile(text)
    assert [s.scene_id for s in first.scenes] == ["s0", "s1", "s2", "later"]
    removed = editor.compile(text.replace("SCENE s1\nSHOT 3s\nThe @dog runs 1.\n\n", ""))
    assert "E210" in [c for c, _line in _codes(removed)]
    assert [s.scene_id for s in removed.scenes] == ["s0", "s2"]
    renamed = editor.compile(text.replace("SCENE s1\n", "SCENE s9\n"))
    assert "E210" in [c for c, _line in _codes(renamed)]
    assert len(editor.compile(text).scenes) == 4


def test_a_media_file_created_or_removed_rechecks_the_scene(tmp_path: Path) -> None:
    editor = _Editor(tmp_path / "film.shot")
    text = _CAST + "SCENE a\nFIRST FRAME start.png\nSHOT 3s\nThe @dog.\n\n" + _scenes(3)
    assert "E401" in [c for c, _line in _codes(editor.compile(text))]
    frame = tmp_path / "start.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n")
    created = editor.compile(text)  # the same text: only the disk changed
    assert "E401" not in [c for c, _line in _codes(created)]
    assert created.scenes[0].request["input"]["image_urls"] == [frame.as_uri()]
    frame.unlink()
    frame.mkdir()  # not a file: E401 again, saying what is there
    made = editor.compile(text)
    assert any(d.code == "E401" and "a directory" in d.message for d in made.diagnostics)
    frame.rmdir()
    gone = editor.compile(text)
    assert any(d.code == "E401" and "not found" in d.message for d in gone.diagnostics)
    frame.write_bytes(b"\x89PNG" + b"\0" * (11 * 1024 * 1024))  # over 10 MiB: E403
    assert "E403" in [c for c, _line in _codes(editor.compile(text))]


def test_a_setting_of_the_title_page_reaches_every_scene(tmp_path: Path) -> None:
    editor = _Editor(tmp_path / "film.shot")
    text = "Mode: std\n\n" + _CAST + _scenes(4)
    assert {s.mode for s in editor.compile(text).scenes} == {"std"}
    assert {s.mode for s in editor.compile(text.replace("std", "pro")).scenes} == {"pro"}
    titled = editor.compile("Title: Dogs\n" + text)
    assert {s.film_title for s in titled.scenes} == {"Dogs"}


def test_a_scene_taking_an_unchanged_scenes_id_flags_the_later_one(tmp_path: Path) -> None:
    editor = _Editor(tmp_path / "film.shot")
    text = _CAST + _scenes(6)
    editor.compile(text)
    clash = editor.compile(text.replace("SCENE s1\n", "SCENE s4\n"))
    e205 = [d for d in clash.diagnostics if d.code == "E205"]
    assert len(e205) == 1 and "s4" in e205[0].message


def test_the_did_you_mean_budget_spent_by_an_edited_scene_reaches_the_scenes_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a budget for one guess among the two elements: only the first typo gets a did-you-mean
    monkeypatch.setattr(suggest, "SUGGESTION_BUDGET", 2)
    editor = _Editor(tmp_path / "film.shot")
    cast = _CAST + "ELEMENT @cat: a cat\n  https://x.io/c.jpg\n  https://x.io/d.jpg\n\n"
    text = cast + _scenes(3, "The @do{i} runs.")  # a typo of its own in each scene
    guessed = [d.help or "" for d in editor.compile(text).diagnostics if d.code == "E201"]
    assert guessed[0] == "did you mean `@dog`?" and "did you mean" not in guessed[1]
    # scene 0's typo fixed: the budget goes to scene 1's, an unchanged scene
    fixed = editor.compile(text.replace("@do0", "@dog"))
    helps = [d.help for d in fixed.diagnostics if d.code == "E201"]
    assert helps[0] == "did you mean `@dog`?" and len(helps) == 2


def test_the_server_analysis_sees_a_frame_appear(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    parser = ChunkParser()
    memo = SceneMemo(parser.moved_from)
    text = _CAST + "SCENE a\nFIRST FRAME start.png\nSHOT 3s\nThe @dog.\n\n" + _scenes(2)
    before = analyse(film, text, parser=parser, memo=memo)
    assert before.scenes[0].credits is None
    (tmp_path / "start.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    after = analyse(film, text, parser=parser, memo=memo)
    assert "E401" not in [d.code for d in after.diagnostics]
    assert after.scenes[0].credits is not None


def test_scenes_moved_down_or_renumbered_keep_what_was_known_moved_with_them(
    tmp_path: Path,
) -> None:
    editor = _Editor(tmp_path / "film.shot")
    text = _CAST + _scenes(40).replace("SHOT 3s", "SHOT 30s")  # E301 in every scene
    editor.compile(text)
    assert editor.memo.checked == 40
    moved = editor.compile(text.replace("runs 3.", "runs 3.\n\n\n"))  # 36 scenes move down
    assert editor.memo.checked == 41  # the edited scene only
    assert [d.code for d in moved.diagnostics].count("E301") == 40
    inserted = "SCENE new\nSHOT 3s\nThe @dog.\n\n"  # every scene below renumbered and moved
    editor.compile(text.replace("SCENE s0\n", inserted + "SCENE s0\n"))
    assert editor.memo.checked == 42
    untitled = "SCENE !\nSHOT 3s\nThe @dog.\n\n" * 3  # ids scene-1..3: by their ordinal
    editor.compile(_CAST + untitled)
    checked = editor.memo.checked
    shifted = editor.compile(_CAST + inserted + untitled)  # now scene-2..4: checked again
    assert [s.scene_id for s in shifted.scenes] == ["new", "scene-2", "scene-3", "scene-4"]
    assert editor.memo.checked == checked + 3  # `new` is remembered from two compiles before
