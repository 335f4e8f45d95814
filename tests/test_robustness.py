"""No input may produce a traceback: arbitrary text and bytes go through the whole compiler
and come out as diagnostics (or, for undecodable bytes, a ScriptReadError → exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shotc.cli import main
from shotc.language.compiler import ScriptReadError, compile_paths

# Fragments that make random text look like scripts, so the search reaches deep paths.
FRAGMENTS = [
    "SCENE ",
    "SHOT ",
    "ELEMENT @",
    "FIRST FRAME ",
    "LAST FRAME ",
    "INCLUDE ",
    "Mode:",
    "Sound: off",
    "Aspect:",
    "Title:",
    "!",
    "#",
    "[[",
    "]]",
    "@",
    "@@",
    "a.png",
    "https://x.io/a.jpg",
    "video ",
    "image ",
    "3s",
    "\n",
    "\n\n",
    " ",
    "\t",
    ":",
    "\r\n",
    "shot 2s",
    "\x00",
    "é",
    "\u2028",
    "12",
    "x.mp4",
    "cast.shot",
    "//",
]
_script_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=60
).map("".join)
_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _compile_file(path: Path) -> None:
    for for_build in (False, True):
        try:
            result = compile_paths([path], for_build=for_build)
        except ScriptReadError:
            continue
        for diag in result.diagnostics:
            assert diag.span.line >= 1 and diag.span.column >= 1
            assert (diag.span.end_line, diag.span.end_column) > (diag.span.line, diag.span.column)


@_settings
@given(text=st.one_of(_script_text, st.text()))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.shot"
    path.write_text(text, "utf-8", newline="")
    _compile_file(path)


@_settings
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.shot"
    path.write_bytes(data)
    _compile_file(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xef\xbb\xbf",
        b"\x00\x00\x00",
        b"SCENE a\x00b\nSHOT 3s\nx\x00y\n",
        b"SHOT 5s\n" + b"x" * 10_000_000 + b"\n",
        b"\n" * 100_000,
        b"SHOT 5s\nprose\n" + b" \n" * 100_000,
    ],
    ids=["empty", "bom", "nuls", "nul-in-script", "10mb-line", "100k-blank", "100k-space-lines"],
)
def test_hostile_files_give_diagnostics_not_tracebacks(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.shot"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 1)


def test_control_characters_are_e100(tmp_path: Path) -> None:
    path = tmp_path / "nul.shot"
    path.write_bytes(b"SHOT 5s\nthe d\x00og\n")
    result = compile_paths([path], for_build=False)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("E100", 2, 6)]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00", b"SHOT 5s\ncaf\xe9\n"])
def test_undecodable_file_is_exit_4(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "latin1.shot"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["build", str(path)])
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "latin1.shot" in result.stderr and "UTF-8" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_and_directory_inputs_are_exit_4(tmp_path: Path) -> None:
    for target in (tmp_path / "nope.shot", tmp_path):
        result = CliRunner().invoke(main, ["check", str(target)])
        assert result.exit_code == 4, result.output
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_nul_in_an_include_path_is_e404(tmp_path: Path) -> None:
    path = tmp_path / "nul.shot"
    path.write_text("INCLUDE a\x00b.shot\nSHOT 5s\nx\n", "utf-8")
    result = compile_paths([path], for_build=False)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E404", 1), ("E100", 1)]
