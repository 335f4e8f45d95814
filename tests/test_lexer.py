"""Stage 1: every line is classified by its shape (language.md §2)."""

from __future__ import annotations

import pytest

from shotc.language.lexer import classify, split_lines


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "BLANK"),
        ("   \t ", "BLANK"),
        ("SCENE Warm-up", "SCENE"),
        ("SCENE", "SCENE"),
        ("  SHOT 3s", "SHOT"),
        ("SHOTS of the dog", "PROSE"),
        ("Shot 3s", "PROSE"),
        ("ELEMENT @dog: dog", "ELEMENT"),
        ("FIRST FRAME a.png", "FIRST_FRAME"),
        ("FIRST\tFRAME a.png", "FIRST_FRAME"),
        ("FIRSTFRAME a.png", "PROSE"),
        ("LAST  FRAME a.png", "LAST_FRAME"),
        ("INCLUDE cast.shot", "INCLUDE"),
        ("Mode: pro", "SETTING"),
        ("mode : pro", "SETTING"),
        ("Callback: https://x.y/z", "SETTING"),
        ("https://x.y/z.png", "REFERENCE"),
        ("  image https://x.y/z", "REFERENCE"),
        ("video clip.mp4", "REFERENCE"),
        ("photos/dog.JPG", "REFERENCE"),
        ("notes.txt", "PROSE"),
        ("!SHOT through glass", "PROSE"),
        ("!Mode: pro", "PROSE"),
        ("The dog: a hero", "PROSE"),
        ("two words.png here", "PROSE"),
        ("\u00a0SCENE nbsp-indented", "SCENE"),
    ],
)
def test_classify(text: str, kind: str) -> None:
    line = classify(text, 1)
    assert line is not None and line.kind == kind


def test_comments_are_dropped() -> None:
    assert classify("  # a comment", 3) is None
    assert classify("!# not a comment", 3) is not None


def test_forced_prose_content_drops_the_bang() -> None:
    line = classify("  !SHOT through glass  ", 1)
    assert line is not None and line.content == "SHOT through glass"


def test_line_endings() -> None:
    assert split_lines("a\r\nb\nc\rd\n") == ["a", "b", "c\rd"]
    assert split_lines("") == []
    assert split_lines("\n\n") == ["", ""]
