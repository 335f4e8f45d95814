"""The `check`, `build` and `explain` commands through click's CliRunner: exit codes and the
separation of results (stdout) from diagnostics (stderr)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from shotc.cli import main

GOOD = "SCENE Warm-up\nSHOT 5s\nA dog runs.\n\nSCENE Play\nSHOT 4s\nA dog plays.\n"
WARN = "SCENE A\nSHOT 2s\nx\nSHOT 2s\ny\n\nSound: off\n"


def write(tmp_path: Path, text: str, name: str = "film.shot") -> str:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return str(path)


def test_build_prints_an_array_for_several_scenes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", write(tmp_path, GOOD)])
    assert result.exit_code == 0, result.output
    requests = json.loads(result.stdout)
    assert [r["input"]["prompt"] for r in requests] == ["A dog runs.", "A dog plays."]
    assert result.stderr == ""


def test_build_prints_one_object_for_one_scene(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", write(tmp_path, "SHOT 5s\nx\n")])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["input"]["prompt"] == "x"


def test_build_with_errors_prints_nothing_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", write(tmp_path, "SHOT 5s\nthe @dog\n")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error[E201]" in result.stderr and "film.shot:2:5" in result.stderr


def test_warnings_do_not_stop_a_build(tmp_path: Path) -> None:
    text = "Sound: off\nSCENE A\nSHOT 2s\nx\nSHOT 2s\ny\n"
    result = CliRunner().invoke(main, ["build", write(tmp_path, text)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["input"]["sound"] is False
    assert "warning[W502]" in result.stderr


def test_build_output_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", write(tmp_path, GOOD), "-o", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["play.json", "warm-up.json"]
    assert json.loads((out / "play.json").read_text())["input"]["duration"] == "4"


def test_empty_file_builds_nothing_e312(tmp_path: Path) -> None:
    path = write(tmp_path, "Mode: pro\n")
    assert CliRunner().invoke(main, ["check", path]).exit_code == 0
    result = CliRunner().invoke(main, ["build", path, "--"])
    assert result.exit_code == 1
    assert "E312" in result.stderr


def test_check_json_lines(tmp_path: Path) -> None:
    text = "Mdoe: pro\nSHOT 5s\nx @dgo\n"
    result = CliRunner().invoke(main, ["check", "--format", "json", write(tmp_path, text)])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [
        (r["code"], r["line"], r["column"], r["end_line"], r["end_column"]) for r in records
    ] == [("E206", 1, 1, 1, 5), ("E201", 3, 3, 3, 7)]
    assert set(records[0]) == {
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
    }
    assert records[0]["help"] == "did you mean `Mode`?"
    assert records[0]["severity"] == "error"


def test_check_human_output_goes_to_stderr_without_colour(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", write(tmp_path, "SHOT fast\nx\n")])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "error[E102]: bad shot duration `fast`"
    assert lines[1].endswith("film.shot:1:6")
    assert lines[3] == "1 | SHOT fast"
    assert lines[4] == "  |      ^^^^"
    assert "\x1b[" not in result.stderr


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from shotc.terminal import interactive, use_colour

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Terminal(), io.StringIO()
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_colour(tty) and not use_colour(pipe)
    assert interactive(tty) and not interactive(pipe)
    monkeypatch.setenv("FORCE_COLOR", "1")  # colours a log, but does not make it a screen
    assert use_colour(pipe) and not interactive(pipe)
    monkeypatch.setenv("NO_COLOR", "1")  # wins over FORCE_COLOR
    assert not use_colour(tty) and not use_colour(pipe)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not use_colour(tty) and not interactive(tty)


def test_explain_every_code() -> None:
    from shotc.codes import CODES

    for code in CODES:
        result = CliRunner().invoke(main, ["explain", code.lower()])
        assert result.exit_code == 0, (code, result.output)
        assert code in result.stdout


def test_explain_unknown_code_is_usage_error() -> None:
    result = CliRunner().invoke(main, ["explain", "E999"])
    assert result.exit_code == 2


def test_usage_errors_exit_2() -> None:
    assert CliRunner().invoke(main, ["build"]).exit_code == 2
    assert CliRunner().invoke(main, ["nonsense"]).exit_code == 2


@pytest.mark.parametrize("command", ["check", "build"])
def test_check_and_build_do_not_import_the_run_machinery(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, "SHOT 5s\nA dog runs.\n")
    probe = (
        "import sys\n"
        "from shotc.cli import main\n"
        f"try:\n    main([{command!r}, {path!r}])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'httpcore', 'lark', 'jsonschema', 'rich', 'av', 'opentimelineio') "
        "or m.startswith(('shotc.run', 'shotc.film')))\n"
        "print(','.join(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.stderr.strip().splitlines()[-1:] in ([], [""]), done.stderr


def test_top_level_help_lists_every_command_with_its_whole_line() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=100)
    assert result.exit_code == 0
    listed = result.output.split("Commands:", 1)[1].splitlines()
    assert listed and all(not line.rstrip().endswith("...") for line in listed), result.output
