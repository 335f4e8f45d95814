"""The explain pages and docs/codes.md against the code registry."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from devtools.codes_doc import DOC_PATH, REGENERATE, render_codes_doc
from shotc.codes import CODES, explain_page
from shotc.diagnostics import Diagnostic
from shotc.language.compiler import compile_paths
from shotc.render import render_one

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("What", "Why", "Example", "Fix")


def _page_names() -> set[str]:
    folder = resources.files("shotc").joinpath("explain")
    return {p.name for p in folder.iterdir() if p.name.endswith(".md")}


def test_every_code_has_a_page() -> None:
    missing = sorted(code for code in CODES if f"{code}.md" not in _page_names())
    assert not missing, f"codes without shotc/explain/<CODE>.md: {missing}"


def test_every_page_belongs_to_a_code() -> None:
    orphans = sorted(name for name in _page_names() if name.removesuffix(".md") not in CODES)
    assert not orphans, f"explain pages for codes not in shotc/codes.py: {orphans}"


@pytest.mark.parametrize("code", sorted(CODES))
def test_page_shape(code: str) -> None:
    page = explain_page(code)
    assert page is not None
    info = CODES[code]
    assert page.splitlines()[0] == f"# {code}: {info.summary}"
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)
    assert headings == list(SECTIONS), f"{code}: sections {headings}, want {list(SECTIONS)}"
    example = page.split("## Example", 1)[1].split("## Fix", 1)[0]
    assert "```shot\n" in example, f"{code}: the example has no .shot snippet"
    shown = CODES[info.became] if info.became else info  # a retired code shows its successor
    assert f"{shown.severity}[{shown.code}]" in example, f"{code}: the example shows no diagnostic"
    fix = page.split("## Fix", 1)[1]
    assert "```shot\n" in fix, f"{code}: the fix has no corrected snippet"


def test_explain_page_lookup_is_case_insensitive() -> None:
    assert explain_page("e201") == explain_page("E201")
    assert explain_page("E999") is None


def test_codes_doc_is_current() -> None:
    path = REPO / DOC_PATH
    expected = render_codes_doc()
    actual = path.read_text("utf-8") if path.exists() else ""
    assert actual == expected, f"{DOC_PATH} is stale: regenerate it with `{REGENERATE}`"


def test_codes_doc_indexes_every_code() -> None:
    doc = render_codes_doc()
    for code, info in CODES.items():
        assert f"| [{code}](#{code.lower()}) | {info.severity} |" in doc
        assert f"## {code}: {info.summary}" in doc


# Examples whose snippet cannot produce the diagnostic by itself: E310's prose is abridged on
# the page, E403 needs an image over 10 MiB beside it.
_EXAMPLES_NOT_SELF_CONTAINED = {"E310", "E403"}
_ARROW = re.compile(
    r"^(?:error|warning)\[(?P<code>[EW][0-9]+)\]: .*\n"
    r"\s*--> (?P<file>\S+):(?P<line>[0-9]+):(?P<col>[0-9]+)$",
    re.MULTILINE,
)


def _example(code: str) -> tuple[str, str, str]:
    """(the example's source, the file it is shown as, the diagnostic text shown)."""
    page = explain_page(code)
    assert page is not None
    example = page.split("## Example", 1)[1].split("## Fix", 1)[0]
    source = re.search(r"```shot\n(.*?)```", example, re.DOTALL)
    shown = re.search(r"```text\n(.*?)```", example, re.DOTALL)
    assert source is not None and shown is not None, f"{code}: example without source or output"
    arrow = next(m for m in _ARROW.finditer(shown.group(1)) if m.group("code") == code)
    return source.group(1), arrow.group("file"), shown.group(1)


def _compiled(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Diagnostic]:
    source, file, _shown = _example(code)
    monkeypatch.chdir(tmp_path)
    (tmp_path / file).write_text(source, "utf-8")
    return compile_paths([Path(file)], for_build=code == "E312").diagnostics


@pytest.mark.parametrize(
    "code", sorted(c for c in set(CODES) - _EXAMPLES_NOT_SELF_CONTAINED if not CODES[c].became)
)
def test_page_example_gives_its_code_where_shown(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _source, _file, shown = _example(code)
    arrow = next(m for m in _ARROW.finditer(shown) if m.group("code") == code)
    where = (code, int(arrow.group("line")), int(arrow.group("col")))
    found = {(d.code, d.span.line, d.span.column) for d in _compiled(code, tmp_path, monkeypatch)}
    assert where in found, f"{code}: the example gives {sorted(found)}"


@pytest.mark.parametrize("code", ["E210", "E211", "E214"])
def test_page_example_renders_exactly(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest pages show the compiler's output byte for byte."""
    _source, _file, shown = _example(code)
    rendered = [
        render_one(d, False, {}) for d in _compiled(code, tmp_path, monkeypatch) if d.code == code
    ]
    assert rendered == [shown.rstrip("\n")]
