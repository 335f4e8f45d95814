"""Edges of the command line outside any one command: Ctrl-C while click parses options (130,
not click's "Aborted!" with exit 1), and a `shotc.toml` that cannot be read or decoded, which
every command that reads it reports as a usage error (2) with its path, never a traceback."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shotc.cli import main
from shotc.exits import ExitCode

SCRIPT = "SCENE One\nSHOT 5s\nA lighthouse at dusk.\n"


def _interrupt(*args: object, **kwargs: object) -> object:
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", ["check", "build", "plan", "status"])
def test_ctrl_c_during_option_parsing_exits_130(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "film.shot"
    script.write_text(SCRIPT)
    # The FILES argument's conversion runs inside click's parsing, before the command body.
    monkeypatch.setattr(click.Path, "convert", _interrupt)
    result = CliRunner().invoke(main, [command, str(script)])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "Aborted!" not in result.output
    assert "interrupted" in result.stderr


def test_ctrl_c_while_the_group_parses_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(click.Group, "parse_args", _interrupt)
    result = CliRunner().invoke(main, ["check", "x.shot"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "Aborted!" not in result.output


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe[run]\n", b"[run\n", b"[nonsense]\nx = 1\n"],
    ids=["not-utf8", "bad-toml", "unknown-section"],
)
@pytest.mark.parametrize("command", ["plan", "status", "credits"])
def test_a_broken_shotc_toml_is_a_usage_error_with_its_path(
    command: str, content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIE_API_KEY", "test-key")
    monkeypatch.setenv("KIE_API_BASE", "http://127.0.0.1:9")  # never reached: config first
    (tmp_path / "film.shot").write_text(SCRIPT)
    (tmp_path / "shotc.toml").write_bytes(content)
    args = [command] if command == "credits" else [command, "film.shot"]
    if command == "status":
        args.append("--refresh")
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "shotc.toml" in result.stderr
    assert "Traceback" not in result.output


def test_a_first_run_without_a_key_leaves_no_shotc_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KIE_API_KEY", raising=False)
    (tmp_path / "film.shot").write_text(SCRIPT)
    result = CliRunner().invoke(main, ["run", "film.shot"])
    assert result.exit_code == ExitCode.USAGE
    assert "KIE_API_KEY" in result.stderr
    assert not (tmp_path / ".shotc").exists()
    assert not (tmp_path / "renders").exists()
