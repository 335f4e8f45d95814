"""`shotc fmt`: the canonical form, and its laws, property-tested with hypothesis:
fmt is idempotent (`fmt(fmt(x)) == fmt(x)`, for any text) and keeps meaning
(`build(fmt(x)) == build(x)` for valid scripts, golden and example files included)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shotc.cli import main
from shotc.cli.tools import compile_source
from shotc.language.lexer import classify
from shotc.language.source import SourceError, read_text
from shotc.tools.formatter import format_text

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted([*ROOT.glob("tests/golden/**/*.shot"), *ROOT.glob("examples/**/*.shot")], key=str)


def requests_of(path: Path, text: str) -> list[tuple[str, object]] | None:
    """The requests `text` builds to as the script at `path`; None when it has errors."""
    result = compile_source(path, text)
    if not result.ok:
        return None
    return [(scene.scene_id, scene.request) for scene in result.scenes]


# -- the canonical form, by example ---------------------------------------------------------


def test_settings_keys_title_case_and_values_normalised() -> None:
    text = "title :  My  Film  \nMODE: PRO\naspect: 16 : 9\nsound:YES\nmodel: KLING-3.0\n"
    assert format_text(text) == (
        "Title: My  Film\nMode: pro\nAspect: 16:9\nSound: on\nModel: kling-3.0/video\n"
    )


def test_directives_durations_and_references() -> None:
    text = (
        "  ELEMENT   @dog :  a good dog  \n"
        "https://x.test/a.png\n"
        "      IMAGE   https://x.test/b\n"
        "SCENE   Opening  night\n"
        "FIRST\tFRAME   https://x.test/f.png\n"
        "SHOT 5 S\n"
        "the @dog runs\n"
    )
    assert format_text(text) == (
        "ELEMENT @dog: a good dog\n"
        "  https://x.test/a.png\n"
        "  image https://x.test/b\n"
        "\n"
        "SCENE Opening  night\n"
        "FIRST FRAME https://x.test/f.png\n"
        "\n"
        "SHOT 5s\n"
        "the @dog runs\n"
    )


def test_blank_lines_between_blocks_and_none_after_headers() -> None:
    text = "\n\nSCENE A\n\n\nSound: on\nSHOT 03\n\n\nfirst\n\n\n\nsecond\nSHOT 2\nthird\n\n\n"
    assert format_text(text) == (
        "SCENE A\nSound: on\n\nSHOT 3s\nfirst\n\nsecond\n\nSHOT 2s\nthird\n"
    )


def test_comments_and_prose_are_kept_byte_for_byte() -> None:
    text = (
        "SHOT 3s\n"
        "   indented  prose,   spaced   out\n"
        "#   a comment   with   space\n"
        "!SHOT through glass\n"
        "shot 3s of the sea\n"
        "Mode: not a setting in a shot\n"
    )
    assert format_text(text) == text


def test_the_blank_line_goes_above_the_comments_that_lead_into_a_block() -> None:
    text = "SHOT 3s\nfirst\n# the second shot is wide\nSHOT 2s\nsecond\n"
    assert format_text(text) == ("SHOT 3s\nfirst\n\n# the second shot is wide\nSHOT 2s\nsecond\n")


def test_blank_lines_inside_a_note_are_the_note_s_own() -> None:
    text = "SHOT 3s\nthe sea [[ a long\n\n\n\nnote ]] at dawn\n\n\nmore\n"
    assert format_text(text) == "SHOT 3s\nthe sea [[ a long\n\n\n\nnote ]] at dawn\n\nmore\n"


def test_a_setting_after_an_element_block_gets_a_blank_line() -> None:
    text = "ELEMENT @a: x\n  a.png\n  b.png\nMode: std\n"
    assert format_text(text) == "ELEMENT @a: x\n  a.png\n  b.png\n\nMode: std\n"


def test_a_comment_inside_an_element_block_does_not_end_it() -> None:
    text = "ELEMENT @a: x\n  a.png\n# the other angle\n  b.png\n"
    assert format_text(text) == text


def test_bom_crlf_and_missing_final_newline() -> None:
    assert format_text("\ufeffSHOT 3s\r\nx  \r\ny") == "SHOT 3s\nx\ny\n"
    assert format_text("") == ""


def test_wrong_case_directives_stay_prose() -> None:
    # `shot 3s` is prose to the lexer: upper-casing it would change the requests.
    text = "SHOT 3s\nshot 3s\nfirst frame a.png\n"
    assert format_text(text) == text


# -- the laws ---------------------------------------------------------------------------------

_FRAGMENTS = [
    "SCENE A",
    "scene b",
    "SHOT 3",
    "SHOT 2 s",
    "shot 4s",
    "SHOT",
    "SHOT x",
    "ELEMENT @a: x",
    "ELEMENT @b :y",
    "ELEMENT a",
    "  https://x.test/a.png",
    "video https://x.test/v",
    "IMAGE a.png",
    "b.jpg",
    "FIRST FRAME a.png",
    "FIRST FRAME After  Scene A",
    "FIRST FRAME after",
    "LAST FRAME AFTER a",
    "LAST  FRAME b.png",
    "INCLUDE lib.shot",
    "Mode: PRO",
    "sound : yes",
    "Aspect: 9 : 16",
    "Title:",
    "Foo: bar",
    "# comment",
    "  # c ",
    "!SHOT 3s",
    "prose @a and @@ more",
    "[[ note",
    "note ]] after",
    "[[ whole ]] line",
    "",
    "   ",
    "\t",
    "Callback: https://x.test/h",
    "SCENE",
    "  SCENE  B  ",
    "x\ry",
]

_lines = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=12)), max_size=30)


@given(_lines, st.sampled_from(["\n", "\r\n"]), st.booleans())
@settings(max_examples=400)
def test_fmt_is_idempotent(lines: list[str], newline: str, final: bool) -> None:
    text = newline.join(lines) + (newline if final else "")
    once = format_text(text)
    assert format_text(once) == once


@given(st.text(max_size=200))
def test_fmt_is_idempotent_on_any_text(text: str) -> None:
    once = format_text(text)
    assert format_text(once) == once


# A generator of valid scripts written untidily: random case and spacing where the language
# allows it, comments, notes, `!` lines, stray blank lines and trailing white space.

_ws = st.sampled_from(["", " ", "  ", "\t"])
_word = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=["L", "N", "P", "S"], exclude_characters="@[]#!"
    ),
    min_size=1,
    max_size=8,
)
_NAMES = ["dog", "cat_1", "Element-x"]


def _case(draw: st.DrawFn, word: str) -> str:
    return draw(st.sampled_from([word, word.upper(), word.lower(), word.capitalize()]))


@st.composite
def _setting(draw: st.DrawFn, title_page: bool) -> str:
    key, value = draw(
        st.sampled_from(
            [
                ("Mode", draw(st.sampled_from(["std", "PRO", "4k"]))),
                ("Aspect", draw(st.sampled_from(["16:9", "9 : 16", "1:1"]))),
                ("Sound", draw(st.sampled_from(["on", "OFF", "Yes", "false"]))),
                ("Callback", "https://hooks.test/cb"),
                *([("Title", "My  Film"), ("Model", "Kling-3.0")] if title_page else []),
            ]
        )
    )
    note = draw(st.sampled_from(["", "", " [[ a note ]]", "[[x]]"]))  # language 1.1 §1
    return f"{draw(_ws)}{_case(draw, key)}{draw(_ws)}:{draw(_ws)}{value}{note}{draw(_ws)}"


@st.composite
def _element(draw: st.DrawFn, name: str) -> list[str]:
    header = f"{draw(_ws)}ELEMENT{draw(_ws) or ' '}@{name}{draw(_ws)}:{draw(_ws)}the {name}"
    if draw(st.booleans()):
        refs = [
            draw(st.sampled_from(["https://x.test/a.png", "https://x.test/b.JPG"])),
            draw(st.sampled_from(["image https://x.test/c", "IMAGE  https://x.test/d.jpeg"])),
            *(["https://x.test/e.jpg"] if draw(st.booleans()) else []),
        ]
    else:
        refs = [draw(st.sampled_from(["https://x.test/v.mp4", "Video https://x.test/v"]))]
    lines = [header]
    for ref in refs:
        lines.append(draw(_ws) + ref + draw(_ws))
        if draw(st.integers(0, 4)) == 0:
            lines.append("# another angle")
    if draw(st.booleans()):  # a voice, anywhere among the references (language 1.1 §3)
        voice = draw(st.sampled_from(["a deep,  slow voice", "soft [[ note ]] and low"]))
        where = draw(st.integers(1, len(lines)))
        lines.insert(where, f"{draw(_ws)}{_case(draw, 'Voice')}{draw(_ws)}:{draw(_ws)}{voice}")
    return lines


@st.composite
def _dialogue(draw: st.DrawFn, names: list[str]) -> str:
    speakers = ["MARA", "DR.  OKAFOR", "AGENT 47", *("@" + n for n in names)]
    speaker = draw(st.sampled_from(speakers))
    paren = draw(st.sampled_from(["", "(whispering)", "( V.O. )", "(cont'd)", "()", "(to @x)"]))
    if "@x" in paren:
        paren = "(softly)"
    words = " ".join(draw(st.lists(_word, min_size=1, max_size=4)))
    quote = draw(st.sampled_from(['"', "“"]))
    close = draw(st.sampled_from(['"', "”"]))
    after = draw(st.sampled_from(["", " She turns.", "\\nand more", ""]))
    line = f"{draw(_ws)}{speaker}{draw(_ws)}{paren}{draw(_ws)}:{draw(_ws)}{quote}{words}"
    if after == "\\nand more":
        return line + "\nand more" + close  # the spoken text spans two lines
    return line + close + after + draw(_ws)


@st.composite
def _prose(draw: st.DrawFn, names: list[str]) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        words = draw(st.lists(_word, min_size=1, max_size=5))
        if draw(st.booleans()) and names:
            words.insert(draw(st.integers(0, len(words))), "@" + draw(st.sampled_from(names)))
        line = draw(_ws) + " ".join(words) + draw(_ws)
        shape = classify(line, 1)
        if shape is None or shape.kind not in ("PROSE", "SETTING"):  # keep it prose in a shot
            line = "and " + line
        kind = draw(st.integers(0, 9))
        if kind == 0:
            line = "!SHOT " + line
        elif kind == 1:
            line += " [[ a note\n\n# a comment in the note\nthat ends ]] here"
        elif kind == 2:
            line += " [[ note ]] and @@ at home"
        elif kind in (3, 4):
            line = draw(_dialogue(names))
        lines.append(line)
        lines += [""] * draw(st.integers(0, 2))
    return lines


@st.composite
def _script(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(_NAMES), max_size=3, unique=True))
    out: list[str] = ["# a film", *draw(st.lists(_setting(True), max_size=3))]
    for name in names:
        out += [""] * draw(st.integers(0, 2)) + draw(_element(name))
    scenes = draw(st.integers(0, 3))
    for index in range(max(scenes, 1)):
        if scenes:
            out += [""] * draw(st.integers(0, 2))
            note = draw(st.sampled_from(["", " [[v2]]"]))
            out.append(f"{draw(_ws)}SCENE{draw(_ws) or ' '}Scene {index}{note}{draw(_ws)}")
            out += draw(st.lists(_setting(False), max_size=2))
        count = draw(st.integers(1, 3))
        frame = draw(st.integers(0, 2))
        if frame == 2 and not (scenes and index):
            frame = 0  # nothing earlier to come after
        if frame == 2:
            # language 1.1 §4: after an earlier scene, by title or id, `after` in any case
            after = draw(st.sampled_from(["after", "AFTER", "After"]))
            source = draw(st.integers(0, index - 1))
            name = draw(st.sampled_from([f"Scene {source}", f"scene-{source}", f"SCENE {source}"]))
            out.append(f"FIRST FRAME {after}{draw(_ws) or ' '}{name}{draw(_ws)}")
        if frame:
            if frame == 1:
                out.append(f"FIRST{draw(_ws) or ' '}FRAME  https://x.test/first.png")
            if count == 1 and draw(st.booleans()):
                out.append("LAST FRAME image https://x.test/last")
        for _ in range(count):
            seconds = draw(st.integers(3, 15) if count == 1 else st.integers(2, 5))
            unit = draw(st.sampled_from(["s", "S", " s", ""]))
            out += [""] * draw(st.integers(0, 2))
            out.append(
                f"{draw(_ws)}SHOT{draw(_ws) or ' '}{'0' * draw(st.integers(0, 1))}"
                f"{seconds}{unit}{draw(_ws)}"
            )
            out += draw(_prose(names))
    return "\n".join(out) + draw(st.sampled_from(["", "\n", "\n\n  \n"]))


@given(_script())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fmt_keeps_meaning(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "film.shot"
        before = requests_of(path, text)
        assert before is not None, "the generator must write valid scripts"
        formatted = format_text(text)
        assert requests_of(path, formatted) == before
        assert format_text(formatted) == formatted


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_fmt_keeps_the_meaning_of_golden_and_example_files(script: Path) -> None:
    try:
        text = read_text(script)
    except SourceError:
        pytest.skip("not a readable script (a golden file for exit 4)")
    formatted = format_text(text)
    assert format_text(formatted) == formatted
    before = requests_of(script, text)
    if before is not None:  # a golden file with errors is left alone by `shotc fmt`
        assert requests_of(script, formatted) == before


# -- the command -------------------------------------------------------------------------------


def write(folder: Path, text: str, name: str = "film.shot") -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_fmt_rewrites_in_place(tmp_path: Path) -> None:
    path = write(tmp_path, "SCENE A\nmode: STD\nSHOT 3\nthe sea   \n")
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text("utf-8") == "SCENE A\nMode: std\n\nSHOT 3s\nthe sea\n"
    assert "reformatted" in result.stderr and result.stdout == ""
    again = CliRunner().invoke(main, ["fmt", str(path)])
    assert again.exit_code == 0 and again.stderr == ""


def test_fmt_check_prints_a_diff_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "SHOT 3\nx\n")
    result = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert "-SHOT 3\n+SHOT 3s\n" in result.stdout
    assert result.stdout.startswith(f"--- {path}\n+++ {path} (formatted)\n")
    assert path.read_text("utf-8") == "SHOT 3\nx\n"
    formatted = write(tmp_path, "SHOT 3s\nx\n", "ok.shot")
    assert CliRunner().invoke(main, ["fmt", "--check", str(formatted)]).exit_code == 0


def test_fmt_dash_reads_stdin_and_writes_stdout(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fmt", "-"], input="SHOT   4 s\nx  \n")
    assert result.exit_code == 0
    assert result.stdout == "SHOT 4s\nx\n"


def test_a_file_with_errors_is_left_untouched(tmp_path: Path) -> None:
    text = "SHOT   3\nthe @dog\n"
    path = write(tmp_path, text)
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 1
    assert "error[E201]" in result.stderr
    assert path.read_text("utf-8") == text
    # An editor filter gets its buffer back unchanged.
    piped = CliRunner().invoke(main, ["fmt", "-"], input=text)
    assert piped.exit_code == 1 and piped.stdout == text


def test_prose_that_looks_like_a_directive_in_the_wrong_case_is_not_fixed(tmp_path: Path) -> None:
    path = write(tmp_path, "SHOT 3s\nshot 3s\n")
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 1  # E106 (was warning W505): fmt leaves a file with errors
    assert path.read_text("utf-8") == "SHOT 3s\nshot 3s\n"


def test_unreadable_file_is_exit_4_and_other_files_are_still_formatted(tmp_path: Path) -> None:
    path = write(tmp_path, "SHOT 3\nx\n")
    result = CliRunner().invoke(main, ["fmt", str(tmp_path / "missing.shot"), str(path)])
    assert result.exit_code == 4
    assert "cannot read" in result.stderr
    assert path.read_text("utf-8") == "SHOT 3s\nx\n"


def test_not_utf8_is_exit_4(tmp_path: Path) -> None:
    path = tmp_path / "bad.shot"
    path.write_bytes(b"SHOT 3s\n\xff\n")
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 4
    assert "not UTF-8" in result.stderr


def test_includes_and_local_media_resolve_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "cast").mkdir()
    write(tmp_path / "cast", "ELEMENT @dog: dog\n  a.png\n  b.png\n", "cast.shot")
    for name in ("a.png", "b.png"):
        (tmp_path / "cast" / name).write_bytes(b"\x89PNG")
    path = write(tmp_path, "INCLUDE   cast/cast.shot  \nSHOT 3\nthe @dog\n")
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0, result.stderr
    assert path.read_text("utf-8") == "INCLUDE cast/cast.shot\n\nSHOT 3s\nthe @dog\n"


# -- where fmt writes: links stay links (docs/cli.md) ----------------------------------------

UNFORMATTED, FORMATTED = "SHOT 3\nthe sea   \n", "SHOT 3s\nthe sea\n"


def test_fmt_of_a_symlink_formats_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = write(tmp_path / "real", UNFORMATTED)
    link = tmp_path / "film.shot"
    link.symlink_to(Path("real") / "film.shot")  # relative, as people make them
    result = CliRunner().invoke(main, ["fmt", str(link)])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "film.shot")
    assert target.read_text("utf-8") == FORMATTED
    assert list((tmp_path / "real").iterdir()) == [target]  # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.shot", "real"]


def test_fmt_of_a_link_to_a_link_writes_the_final_target(tmp_path: Path) -> None:
    target = write(tmp_path, UNFORMATTED, "real.shot")
    (tmp_path / "middle.shot").symlink_to("real.shot")
    (tmp_path / "film.shot").symlink_to("middle.shot")
    assert CliRunner().invoke(main, ["fmt", str(tmp_path / "film.shot")]).exit_code == 0
    assert (tmp_path / "film.shot").is_symlink() and (tmp_path / "middle.shot").is_symlink()
    assert target.read_text("utf-8") == FORMATTED


def test_fmt_of_a_hard_linked_file_keeps_its_links(tmp_path: Path) -> None:
    path = write(tmp_path, UNFORMATTED)
    other = tmp_path / "same.shot"
    os.link(path, other)
    inode = path.stat().st_ino
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0, result.stderr
    assert path.stat().st_ino == other.stat().st_ino == inode
    assert path.stat().st_nlink == 2
    assert other.read_text("utf-8") == FORMATTED


def test_fmt_of_a_hard_linked_file_that_shrinks_leaves_no_old_tail(tmp_path: Path) -> None:
    path = write(tmp_path, "SHOT 3\n" + "the sea\n\n\n\n\n" * 50)
    os.link(path, tmp_path / "same.shot")
    assert CliRunner().invoke(main, ["fmt", str(path)]).exit_code == 0
    assert path.read_text("utf-8") == "SHOT 3s\n" + "the sea\n\n" * 49 + "the sea\n"


def test_fmt_of_a_plain_file_replaces_it_atomically_and_keeps_its_mode(tmp_path: Path) -> None:
    path = write(tmp_path, UNFORMATTED)
    path.chmod(0o640)
    inode = path.stat().st_ino
    assert CliRunner().invoke(main, ["fmt", str(path)]).exit_code == 0
    assert path.stat().st_ino != inode  # a new file renamed over the old: never half written
    assert path.stat().st_mode & 0o7777 == 0o640
    assert path.read_text("utf-8") == FORMATTED
    assert [p.name for p in tmp_path.iterdir()] == ["film.shot"]
