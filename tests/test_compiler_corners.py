"""Corner cases of the compiler found by an adversarial review against language.md, each of
which failed before its fix: stray-shot regions, E305 suppression, malformed URLs, huge inputs.
Each test asserts what the specification requires (quoted above each group)."""

from __future__ import annotations

import os
from pathlib import Path

from shotc.language.compiler import CompileResult, compile_paths

_ELEMENT_AB = "ELEMENT @a: dog\n  https://e.com/a.png\n  https://e.com/b.png\n"


def _compile(tmp_path: Path, text: str, *, for_build: bool = False) -> CompileResult:
    path = tmp_path / "t.shot"
    path.write_text(text, encoding="utf-8")
    return compile_paths([path], for_build=for_build)


def _codes(result: CompileResult) -> list[str | None]:
    return [d.code for d in result.diagnostics]


def _positions(result: CompileResult, code: str) -> list[tuple[int, int, int, int]]:
    return [
        (d.span.line, d.span.column, d.span.end_line, d.span.end_column)
        for d in result.diagnostics
        if d.code == code
    ]


# -- §5: "a SHOT before the first SCENE is E104 (the lines from it up to the first SCENE are
#    skipped)"; docs §10: "their prose is skipped without E101, but ELEMENT blocks among them
#    are declared".


def test_prose_after_element_block_among_stray_shots_is_skipped(tmp_path: Path) -> None:
    text = (
        f"SHOT 3s\nskipped\n{_ELEMENT_AB}\n"
        "this prose is also before the first SCENE\n"
        "\n"
        "SCENE One\n"
        "FIRST FRAME https://e.com/s.png\n"
        "SHOT 5s\n"
        "@a naps\n"
    )
    assert _codes(_compile(tmp_path, text)) == ["E104"]


def test_setting_and_include_after_element_block_among_stray_shots_are_skipped(
    tmp_path: Path,
) -> None:
    text = (
        f"SHOT 3s\nskipped\n{_ELEMENT_AB}"
        "Mode: bogus\n"
        "INCLUDE missing.shot\n"
        "\n"
        "SCENE One\n"
        "FIRST FRAME https://e.com/s.png\n"
        "SHOT 5s\n"
        "@a naps\n"
    )
    assert _codes(_compile(tmp_path, text)) == ["E104"]


# -- §9: "E305 is reported only when neither the ELEMENT line nor a line of its block already
#    has an error."


def test_e305_not_reported_when_element_line_has_e202(tmp_path: Path) -> None:
    text = (
        f"{_ELEMENT_AB}\n"
        "ELEMENT @a: cat\n"
        "  https://e.com/c.png\n"
        "\n"
        "FIRST FRAME https://e.com/s.png\n"
        "SHOT 5s\n"
        "@a naps\n"
    )
    result = _compile(tmp_path, text)
    assert _positions(result, "E202") == [(5, 9, 5, 11)]
    assert _codes(result) == ["E202"]


def test_e305_not_reported_when_element_line_has_control_character(tmp_path: Path) -> None:
    text = (
        "ELEMENT @a: d\x01og\n"
        "  https://e.com/a.png\n"
        "\n"
        "FIRST FRAME https://e.com/s.png\n"
        "SHOT 5s\n"
        "@a naps\n"
    )
    assert _codes(_compile(tmp_path, text)) == ["E100"]


# -- §3: Callback is "an `https://` URL with a host"; E207 "invalid ... setting value";
#    §8: "The object must pass the project's JSON Schema". A value with white space inside
#    passes `check` today and makes `build` raise CompilerBug ("internal error").


def test_callback_with_tab_inside_is_e207(tmp_path: Path) -> None:
    result = _compile(tmp_path, "Callback: https://e.com/a\tb\nSHOT 5s\nhi\n", for_build=True)
    assert _positions(result, "E207") == [(1, 11, 1, 28)]


def test_callback_with_unicode_space_inside_is_e207(tmp_path: Path) -> None:
    result = _compile(tmp_path, "Callback: https://e.com/a\u00a0b\nSHOT 5s\nhi\n", for_build=True)
    assert _positions(result, "E207") == [(1, 11, 1, 28)]


def test_c1_control_character_in_reference_does_not_break_build(tmp_path: Path) -> None:
    # U+0090 is valid UTF-8 and not white space: `check` is clean, `build` raised CompilerBug
    result = _compile(
        tmp_path, "FIRST FRAME https://e.com/a\u0090.png\nSHOT 5s\nhi\n", for_build=True
    )
    assert isinstance(result, CompileResult)


# -- §9: "All of a file's diagnostics are reported in one run ...; never a traceback."


def test_callback_with_bad_ipv6_host_is_e207(tmp_path: Path) -> None:
    result = _compile(tmp_path, "Callback: https://[::1\nSHOT 5s\nhi\n")
    assert _positions(result, "E207") == [(1, 11, 1, 23)]


def test_element_file_uri_with_bracket_does_not_crash(tmp_path: Path) -> None:
    text = "ELEMENT @a: dog\n  file://[/a.png\n  https://e.com/b.png\n\nSHOT 5s\n@a hi\n"
    result = _compile(tmp_path, text)
    assert "E401" in _codes(result) or "E402" in _codes(result)


def test_frame_file_uri_with_bracket_does_not_crash(tmp_path: Path) -> None:
    result = _compile(tmp_path, "FIRST FRAME file://[x/a.png\nSHOT 5s\nhi\n")
    assert "E401" in _codes(result) or "E402" in _codes(result)


def test_https_reference_with_bracket_does_not_crash(tmp_path: Path) -> None:
    text = "ELEMENT @a: dog\n  https://[::1/a.png\n  https://e.com/b.png\n\nSHOT 5s\n@a hi\n"
    assert isinstance(_compile(tmp_path, text), CompileResult)


def test_huge_shot_duration_is_e301_not_traceback(tmp_path: Path) -> None:
    result = _compile(tmp_path, "SHOT " + "1" * 5000 + "s\nhi\n")
    assert _positions(result, "E301") == [(1, 1, 1, 5007)]


def test_deep_include_chain_does_not_crash(tmp_path: Path) -> None:
    depth = 1100
    for i in range(depth):
        (tmp_path / f"f{i}.shot").write_text(f"INCLUDE f{i + 1}.shot\n", encoding="utf-8")
    (tmp_path / f"f{depth}.shot").write_text("Mode: std\n", encoding="utf-8")
    main = tmp_path / "main.shot"
    main.write_text("INCLUDE f0.shot\nSHOT 5s\nhi\n", encoding="utf-8")
    result = compile_paths([main], for_build=True)
    # a chain this deep is an error of its own (E404 past 100 levels), not a traceback
    assert [d.code for d in result.diagnostics if d.is_error] == ["E404"]


def test_a_named_pipe_as_a_frame_is_e401_and_never_opened(tmp_path: Path) -> None:
    # Opening a FIFO for reading waits for a writer forever: the check must only stat it.
    os.mkfifo(tmp_path / "frame.png")
    (tmp_path / "dir.png").mkdir()
    text = (
        "SCENE A\nFIRST FRAME frame.png\nSHOT 5s\nhi\n\nSCENE B\nFIRST FRAME dir.png\nSHOT 5s\nhi\n"
    )
    result = _compile(tmp_path, text)
    assert _positions(result, "E401") == [(2, 13, 2, 22), (7, 13, 7, 20)]
    messages = [d.message for d in result.diagnostics if d.code == "E401"]
    assert "pipe" in messages[0] and "directory" in messages[1]
