"""docs/cli.md is generated from the commands' `--help` (`python -m devtools.cli_docs`); these
tests fail when a command or an option is missing from it or the page is stale. Fix either by
regenerating the page, never by editing it by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from devtools import cli_docs
from shotc.cli import main
from shotc.language.compiler import compile_paths

PAGE = cli_docs.DOC_PATH
REGENERATE = "run `python -m devtools.cli_docs` to regenerate docs/cli.md"


def page() -> str:
    return PAGE.read_text("utf-8")


def test_the_page_is_not_stale() -> None:
    assert page() == cli_docs.render(), REGENERATE


@pytest.mark.parametrize("name", cli_docs.command_names())
def test_every_command_and_option_is_documented(name: str) -> None:
    text = page()
    assert f"## `shotc {name}`" in text, REGENERATE
    root = click.Context(main, info_name="shotc")
    command = main.get_command(root, name)
    assert command is not None
    for param in command.params:
        for flag in [*param.opts, *param.secondary_opts]:
            if flag.startswith("-"):
                assert flag in text, f"{flag} of `shotc {name}` is missing; {REGENERATE}"


@pytest.mark.parametrize("name", cli_docs.command_names())
def test_the_page_shows_what_help_prints(name: str) -> None:
    # What a user sees in a terminal (wrapped at its own width) carries the same options.
    result = CliRunner().invoke(main, [name, "--help"], prog_name="shotc", terminal_width=100)
    assert result.exit_code == 0
    section = page().split(f"## `shotc {name}`", 1)[1].split("\n## ", 1)[0]
    assert result.output.strip() in section, REGENERATE


def test_check_mode_of_the_generator() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devtools.cli_docs", "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


# -- docs/language.md: every `shot` example is checked against the compiler -----------------

LANGUAGE = cli_docs.DOC_PATH.parent / "language.md"
_BLOCK = re.compile(r"(?:<!-- (expect|file): ([^>]*?) -->\n)?```shot\n(.*?)```\n", re.S)


def examples() -> list[tuple[str, str, str]]:
    """(kind, argument, script) per `shot` block: kind "expect" (codes), "file" (a file for
    later examples to include) or "" (must check clean)."""
    return [(m[1] or "", m[2] or "", m[3]) for m in _BLOCK.finditer(LANGUAGE.read_text("utf-8"))]


def test_the_language_reference_has_examples() -> None:
    assert len(examples()) >= 15


def test_every_language_example_reports_what_it_says(tmp_path: Path) -> None:
    wrong: list[str] = []
    for number, (kind, argument, script) in enumerate(examples(), start=1):
        if kind == "file":
            (tmp_path / argument).write_text(script, "utf-8")
            continue
        path = tmp_path / f"example-{number}.shot"
        path.write_text(script, "utf-8")
        result = compile_paths([path], for_build=True)
        codes = [d.code for d in result.diagnostics]
        expected = argument.split() if kind == "expect" else []
        if codes != expected:
            wrong.append(f"example {number}: expected {expected}, got {codes}\n{script}")
    assert not wrong, "\n".join(wrong)
