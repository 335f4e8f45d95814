"""Scripts with very many diagnostics (issue 7): the human output shows 50 of one code in one
file and counts the rest on one line; JSON keeps every one; the work stays linear (asserted by
counting, not by timing: the timed figures are in benchmarks/bench_compile.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import shotc.suggest as suggest
from shotc.cli import main
from shotc.diagnostics import Diagnostic, Span
from shotc.language.compiler import compile_paths
from shotc.render import SHOWN_PER_CODE, render_diagnostics
from shotc.suggest import SUGGESTION_BUDGET, Suggester


def _undeclared_cues(n: int) -> str:
    return "SHOT 5s\n" + "".join(f"The @ghost{i} walks.\n\n" for i in range(n))


def test_after_50_of_one_code_one_line_counts_the_rest(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text("Colour: red\n" + _undeclared_cues(120), "utf-8")
    result = CliRunner().invoke(main, ["check", str(film)])
    assert result.exit_code == 1
    err = result.stderr
    assert err.count("error[E201]") == SHOWN_PER_CODE == 50
    assert err.count("error[E206]") == 1  # another code keeps its own count
    assert f"and 70 more E201 in {film}" in err.splitlines()
    assert err.rstrip().endswith("121 errors")  # the summary counts every one


def test_json_keeps_every_diagnostic(tmp_path: Path) -> None:
    film = tmp_path / "film.shot"
    film.write_text(_undeclared_cues(120), "utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(film)])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["code"] for row in rows] == ["E201"] * 120
    assert "more" not in result.stdout


def test_the_cap_is_per_file() -> None:
    diags = [
        Diagnostic("E201", "x", Span.point(name, line, 1), None)
        for name in ("a.shot", "b.shot")
        for line in range(1, 53)
    ]
    lines = render_diagnostics(diags).splitlines()
    assert "and 2 more E201 in a.shot" in lines and "and 2 more E201 in b.shot" in lines
    # a.shot's count comes right after a.shot's diagnostics, before b.shot's
    assert lines.index("and 2 more E201 in a.shot") < lines.index(" --> b.shot:1:1")


def test_did_you_mean_work_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct typo cues against many elements were cues x elements comparisons (quadratic):
    now the total stays within the budget however many there are."""
    compared: list[int] = []
    real = suggest.did_you_mean

    def counting(word: str, options: object, **kwargs: bool) -> str | None:
        choices = list(options)  # type: ignore[call-overload]
        compared.append(len(choices))
        return real(word, choices, **kwargs)

    monkeypatch.setattr(suggest, "did_you_mean", counting)
    elements = "".join(
        f"ELEMENT @el{i}: thing\n  https://x.test/1.png\n  https://x.test/2.png\n\n"
        for i in range(300)
    )
    cues = "".join(f"The @el{i}x runs.\n" for i in range(2000))
    film = tmp_path / "film.shot"
    film.write_text(elements + "SHOT 5s\n" + cues, "utf-8")
    result = compile_paths([film], for_build=False)
    assert sum(d.code == "E201" for d in result.diagnostics) == 2000
    assert 0 < sum(compared) <= SUGGESTION_BUDGET
    helps = {d.help for d in result.diagnostics if d.code == "E201"}
    assert "did you mean `@el1`?" in helps  # the first ones still get their suggestion


def test_a_suggester_answers_a_repeated_word_from_memory() -> None:
    guesses = Suggester()
    options = [f"name{i}" for i in range(SUGGESTION_BUDGET // 2)]
    assert guesses.guess("name7x", options) == "name7"
    assert guesses.guess("name7x", options) == "name7"  # remembered: no budget spent
    assert guesses.guess("name8x", options) == "name8"
    assert guesses.guess("name9x", options) is None  # over budget: the plain help


def test_control_characters_are_counted_linearly(tmp_path: Path) -> None:
    """E100 for control characters stops at 20 per file: a file full of them does not make
    one diagnostic per character (each costs a line count)."""
    film = tmp_path / "film.shot"
    film.write_text("SHOT 5s\n" + "a\x01b\n" * 10_000, "utf-8")
    found = compile_paths([film], for_build=False).diagnostics
    assert sum(d.code == "E100" for d in found) == 20
