"""No input may produce a traceback: arbitrary text and bytes go through the whole compiler
and come out as diagnostics (or, for undecodable bytes, a ScriptReadError → exit 4)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shotc.cli import main
from shotc.language.compiler import ScriptReadError, compile_paths
from shotc.language.source import MAX_SOURCE_BYTES

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


# -- hostile files, not only hostile text (issue 7) ------------------------------------------


@pytest.fixture
def deadline() -> Iterator[None]:
    """A regression here is a hang (opening a FIFO blocks): fail after 60 s instead."""

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError("a hostile file made the compiler hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _hostile_targets(root: Path) -> dict[str, str]:
    """Things a path can name that are not a readable script, by kind: path to give."""
    targets = {"missing": "missing.shot", "device": "/dev/zero", "directory": "folder"}
    (root / "folder").mkdir(exist_ok=True)
    if hasattr(os, "mkfifo") and not (root / "pipe.shot").exists():
        os.mkfifo(root / "pipe.shot")
    if hasattr(os, "mkfifo"):
        targets["fifo"] = "pipe.shot"
    (root / "latin1.shot").write_bytes(b"Mode: std\nELEMENT @x: caf\xe9\n")
    targets["not-utf8"] = "latin1.shot"
    with open(root / "huge.shot", "wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_SOURCE_BYTES + 1)
    targets["huge"] = "huge.shot"
    (root / "loop.shot").unlink(missing_ok=True)
    (root / "loop.shot").symlink_to("loop.shot")
    targets["symlink-loop"] = "loop.shot"
    return targets


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM for the deadline")
@pytest.mark.usefixtures("deadline")
@pytest.mark.parametrize("command", ["check", "build", "fmt", "validate", "decompile"])
def test_hostile_paths_on_the_command_line_are_exit_4(tmp_path: Path, command: str) -> None:
    for kind, target in _hostile_targets(tmp_path).items():
        path = target if os.path.isabs(target) else str(tmp_path / target)
        result = CliRunner().invoke(main, [command, path])
        assert result.exception is None or isinstance(result.exception, SystemExit), kind
        assert result.exit_code == 4, (kind, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, (kind, result.stderr)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM for the deadline")
@pytest.mark.usefixtures("deadline")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(
        st.sampled_from(
            ["missing", "device", "directory", "fifo", "not-utf8", "huge", "symlink-loop", "self"]
        ),
        min_size=1,
        max_size=4,
    ),
    command=st.sampled_from(["check", "build", "fmt"]),
)
def test_includes_of_hostile_files_are_e404(tmp_path: Path, picks: list[str], command: str) -> None:
    targets = {**_hostile_targets(tmp_path), "self": "film.shot"}
    picks = [p for p in picks if p in targets]
    film = tmp_path / "film.shot"
    film.write_text(
        "".join(f"INCLUDE {targets[p]}\n" for p in picks) + "\nSHOT 5s\nThe dog runs.\n", "utf-8"
    )
    result = compile_paths([film], for_build=False)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [
        ("E404", line) for line in range(1, len(picks) + 1)
    ]
    run = CliRunner().invoke(main, [command, str(film)])
    assert run.exception is None or isinstance(run.exception, SystemExit)
    assert run.exit_code == 1 and "Traceback" not in run.output


# -- frame lines (a note between two frame tokens once raised ValueError in the builder) ------

_FRAME_PIECES = st.sampled_from(
    [
        "a.png",
        "b.jpg",
        "https://x.io/a.jpg",
        "image",
        "video",
        "image ",
        "after",
        "AFTER",
        "after.png",
        "Dawn",
        "dawn",
        "[[x]]",
        "[[ a note ]]",
        "[[",
        "]]",
        "[[]]",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u3000",
        "\u2028",
        "\x85",
        "\r",
        "é",
        "🎬",
        "#",
        "@dog",
        "SCENE",
    ]
)
_frame_line = st.tuples(
    st.sampled_from(["FIRST FRAME", "LAST FRAME", "FIRST  FRAME", "LAST\tFRAME", " FIRST FRAME"]),
    st.lists(st.one_of(_FRAME_PIECES, st.text(max_size=3)), max_size=8),
).map(lambda parts: parts[0] + " " + "".join(parts[1]))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(_frame_line, min_size=1, max_size=3), where=st.sampled_from([0, 1]))
@example(lines=["LAST FRAME a.png [[x]] b.png"], where=1)
@example(lines=["FIRST FRAME [[x]] after Dawn"], where=1)
@example(lines=["FIRST FRAME a.png [[note]]"], where=1)
@example(lines=["FIRST FRAME image[[x]]a.png b.png"], where=1)
def test_frame_lines_with_notes_never_raise(tmp_path: Path, lines: list[str], where: int) -> None:
    # the frame lines in the second scene's preamble (`FIRST FRAME after Dawn` may name the
    # first), or on the title page, where they are out of place
    body = "".join(line + "\n" for line in lines)
    text = "Aspect: 16:9\n" + (body if where == 0 else "")
    text += "\nSCENE Dawn\nSHOT 3s\nThe sun rises.\n\nSCENE Noon\n" + (body if where else "")
    text += "SHOT 3s\nThe sun is high.\n"
    path = tmp_path / "frames.shot"
    path.write_text(text, "utf-8", newline="")
    _compile_file(path)
    run = CliRunner().invoke(main, ["check", str(path)])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.exit_code in (0, 1), run.output


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # a note between two frame tokens is E100 at the extra token (not a crash)
        ("LAST FRAME https://x.test/a.png [[x]] https://x.test/b.png", [("E100", 6, 39)]),
        # a note before the argument or after it is removed: nothing is extra
        ("FIRST FRAME [[x]] after Dawn", []),
        ("FIRST FRAME https://x.test/a.png [[note]]", []),
        ("FIRST FRAME after [[x]] Dawn [[y]]", []),
    ],
)
def test_notes_on_frame_lines(
    tmp_path: Path, line: str, expected: list[tuple[str, int, int]]
) -> None:
    path = tmp_path / "frames.shot"
    path.write_text(
        f"SCENE Dawn\nSHOT 3s\nThe sun rises.\n\nSCENE Noon\n{line}\nSHOT 3s\nHigh sun.\n", "utf-8"
    )
    result = compile_paths([path], for_build=False)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == expected
