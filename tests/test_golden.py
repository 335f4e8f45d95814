"""Golden cases written by hand from the language spec, run through the compiler.

`tests/golden/diagnostics/<CODE>-<slug>.shot` → `<same>.expected`: one line per diagnostic,
in the compiler's (sorted) order, `CODE LINE:COL-ENDLINE:ENDCOL`, plus ` FILE` (relative to the
case's directory) when the diagnostic is in another file. A first line `# mode: build` compiles
for `build` (E312); `# make: NAME BYTES` lines create files at test time in a copy of the case
(used for the >10 MiB images of E403, which are not committed).

`tests/golden/build/<name>.shot` → `<name>.json`: the requests `shotc build` prints (one object
for one scene, else a list), with the repository's `file://` prefix written `file:///REPO`.

`pytest tests/test_golden.py --update` rewrites the expectations from the compiler instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from shotc.diagnostics import Diagnostic
from shotc.language.compiler import compile_paths

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
DIAGNOSTICS = GOLDEN / "diagnostics"
BUILD = GOLDEN / "build"
REPO_URI = REPO.as_uri()
REPO_PLACEHOLDER = "file:///REPO"

_MODE = re.compile(r"#\s*mode:\s*(check|build)\s*$")
_MAKE = re.compile(r"#\s*make:\s*(\S+)\s+([0-9]+)\s*$")


@dataclass(frozen=True)
class Header:
    build: bool
    make: tuple[tuple[str, int], ...]


def read_header(path: Path) -> Header:
    build = False
    make: list[tuple[str, int]] = []
    for line in path.read_text("utf-8").splitlines():
        if not line.startswith("#"):
            break
        if mode := _MODE.match(line):
            build = mode.group(1) == "build"
        elif made := _MAKE.match(line):
            make.append((made.group(1), int(made.group(2))))
    return Header(build, tuple(make))


def format_diagnostic(diag: Diagnostic, case: Path) -> str:
    span = diag.span
    text = f"{diag.code} {span.line}:{span.column}-{span.end_line}:{span.end_column}"
    where = Path(span.file)
    if not where.is_absolute():
        where = Path.cwd() / where
    if os.path.realpath(where) != os.path.realpath(case):
        text += " " + Path(os.path.relpath(os.path.realpath(where), case.parent)).as_posix()
    return text


def diagnostic_lines(case: Path, tmp_path: Path) -> list[str]:
    header = read_header(case)
    if header.make:
        # a copy beside the files it needs, made here rather than committed
        copy = tmp_path / case.name
        shutil.copyfile(case, copy)
        for name, size in header.make:
            with open(tmp_path / name, "wb") as handle:
                handle.truncate(size)
        case = copy
    result = compile_paths([case], for_build=header.build)
    return [format_diagnostic(d, case) for d in result.diagnostics]


def _cases(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.shot")) if folder.is_dir() else []


@pytest.mark.parametrize("case", _cases(DIAGNOSTICS), ids=lambda p: p.stem)
def test_diagnostics(case: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    expected_path = case.with_suffix(".expected")
    got = diagnostic_lines(case, tmp_path)
    if request.config.getoption("--update"):
        expected_path.write_text("".join(line + "\n" for line in got), "utf-8")
        return
    assert expected_path.exists(), f"{expected_path.name} is missing (run with --update)"
    expected = expected_path.read_text("utf-8").splitlines()
    assert got == expected


def test_every_code_has_a_diagnostic_case() -> None:
    from shotc.codes import CODES

    names = {p.stem.split("-", 1)[0] for p in _cases(DIAGNOSTICS)}
    assert sorted(set(CODES) - names) == []
    assert sorted(names - set(CODES)) == []


def test_every_expected_file_has_a_case() -> None:
    orphans = [
        p.name for p in DIAGNOSTICS.glob("*.expected") if not p.with_suffix(".shot").exists()
    ]
    assert orphans == []


def build_json(path: Path) -> str:
    result = compile_paths([path], for_build=True)
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, "\n".join(format_diagnostic(d, path) + f" {d.message}" for d in errors)
    requests = [scene.request for scene in result.scenes]
    payload = requests[0] if len(requests) == 1 else requests
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    return text.replace(REPO_URI, REPO_PLACEHOLDER) + "\n"


@pytest.mark.parametrize("case", _cases(BUILD), ids=lambda p: p.stem)
def test_build(case: Path, request: pytest.FixtureRequest) -> None:
    expected_path = case.with_suffix(".json")
    got = build_json(case)
    if request.config.getoption("--update"):
        expected_path.write_text(got, "utf-8")
        return
    assert expected_path.exists(), f"{expected_path.name} is missing (run with --update)"
    # compare canonical text: values and key order
    expected = json.dumps(
        json.loads(expected_path.read_text("utf-8")), indent=2, ensure_ascii=False
    )
    assert got == expected + "\n"


def test_scene_ids_are_unique_across_the_files_of_one_build() -> None:
    # language.md section 8: E205 at the later scene, across all files of one build call
    first = DIAGNOSTICS / "support" / "park-a.shot"
    second = DIAGNOSTICS / "support" / "park-b.shot"
    result = compile_paths([first, second], for_build=True)
    assert [format_diagnostic(d, first) for d in result.diagnostics] == [
        "E205 3:1-3:15 park-b.shot"
    ]


# did-you-mean and other helps the spec asks for (section 9): case -> text the help must contain
HELPS = {
    "E101-scene-preamble": "SHOT",
    "E101-wrong-case-directive": "SHOT 5s",
    "E201-did-you-mean": "@element_dog",
    "E206-title-page": "Aspect",
    "E207-mode-typo": "pro",
}


@pytest.mark.parametrize("name", sorted(HELPS))
def test_help_lines(name: str) -> None:
    case = DIAGNOSTICS / f"{name}.shot"
    result = compile_paths([case], for_build=False)
    code = name.split("-", 1)[0]
    helps = [d.help or "" for d in result.diagnostics if d.code == code]
    assert helps, f"{name}: no {code}"
    assert HELPS[name] in helps[-1], f"{name}: help {helps[-1]!r} should mention {HELPS[name]!r}"


EXAMPLES = REPO / "examples"
EXAMPLE_GOLDEN = GOLDEN / "examples"
EXAMPLE_SCRIPTS = ["rehearsal.shot", "dog-and-cat.shot", "film/film.shot"]


@pytest.mark.parametrize("script", EXAMPLE_SCRIPTS)
def test_example(script: str, request: pytest.FixtureRequest) -> None:
    """Each example's requests and diagnostics (warnings only) are pinned."""
    path = EXAMPLES / script
    name = script.replace("/", "-").removesuffix(".shot")
    got_json = build_json(path)
    result = compile_paths([path], for_build=True)
    got_diags = "".join(format_diagnostic(d, path) + "\n" for d in result.diagnostics)
    json_path = EXAMPLE_GOLDEN / f"{name}.json"
    diag_path = EXAMPLE_GOLDEN / f"{name}.expected"
    if request.config.getoption("--update"):
        EXAMPLE_GOLDEN.mkdir(exist_ok=True)
        json_path.write_text(got_json, "utf-8")
        diag_path.write_text(got_diags, "utf-8")
        return
    assert json_path.exists() and diag_path.exists(), f"{name}: run with --update"
    assert got_json == json_path.read_text("utf-8")
    assert got_diags == diag_path.read_text("utf-8")
