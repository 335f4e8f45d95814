"""docs/cli.md is generated from the commands' `--help` (`python -m shotc.cli_docs`); these
tests fail when a command or an option is missing from it or the page is stale. Fix either by
regenerating the page, never by editing it by hand."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from shotc import cli_docs
from shotc.cli import main

PAGE = cli_docs.DOC_PATH
REGENERATE = "run `python -m shotc.cli_docs` to regenerate docs/cli.md"


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
        [sys.executable, "-m", "shotc.cli_docs", "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
