"""The one problem record and its collector: a source problem and a request problem are both
`Diagnostic`s, collected by `Problems`, and the renderers print either kind."""

from __future__ import annotations

import json

from shotc.diagnostics import Diagnostic, Problems, Span
from shotc.render import render_diagnostics, render_json_lines, render_request_problems, summary
from shotc.request.rules import validate_all


def test_the_collector_takes_a_span_or_a_json_path() -> None:
    found = Problems("r.json")
    found.add("E301", "bad total", "input.duration")
    found.add("W501", "never cued", Span.point("a.shot", 3, 1))
    found.error("W501", "refused", "input.kling_elements[0]")
    found.note(None, "a default", "input.mode")
    assert [(d.code, d.severity, d.path, d.span.file, d.span.line) for d in found] == [
        ("E301", "error", "input.duration", "r.json", 0),
        ("W501", "warning", "", "a.shot", 3),
        ("W501", "error", "input.kling_elements[0]", "r.json", 0),
        (None, "note", "input.mode", "r.json", 0),
    ]
    assert [d.is_error for d in found] == [True, False, True, False]
    assert summary(found) == "2 errors, 1 warning"


def test_a_request_problem_is_placed_in_its_file() -> None:
    (problem,) = [v for v in validate_all({"model": "kling-3.0/video"}) if v.path == "input"]
    assert problem.span.file == "" and problem.is_error
    placed = problem.located("many.json", "[2].input")
    assert (placed.span.file, placed.path, placed.code) == ("many.json", "[2].input", problem.code)


def test_json_lines_keep_each_kinds_fields() -> None:
    source = Diagnostic("E101", "prose outside a shot", Span("a.shot", 2, 1, 2, 5), "add a SHOT")
    request = Diagnostic(None, "unknown key “x”", Span.whole("r.json"), path="input.x")
    lines = render_json_lines([source, request], ensure_ascii=False).splitlines()
    assert list(json.loads(lines[0])) == [
        *("code", "severity", "message", "file", "line", "column", "end_line", "end_column"),
        "help",
    ]
    assert json.loads(lines[1]) == {
        "file": "r.json",
        "path": "input.x",
        "code": None,
        "severity": "error",
        "message": "unknown key “x”",
    }
    assert "“" in lines[1]  # validate writes non-ASCII as it is
    assert "\\u201c" in render_json_lines([request])  # check's form escapes it


def test_the_renderer_prints_both_kinds() -> None:
    source = Diagnostic("E101", "prose outside a shot", Span("nowhere.shot", 2, 1, 2, 5))
    request = Diagnostic("W502", "sound is false", Span.whole("r.json"), path="input.sound")
    text = render_diagnostics([source, request])
    assert "--> nowhere.shot:2:1" in text
    assert "warning[W502]: sound is false\n  --> r.json: input.sound" in text
    assert text.endswith("1 error, 1 warning\n")
    assert render_request_problems([request]) == (
        "warning[W502]: sound is false\n  --> r.json: input.sound\n"
    )
