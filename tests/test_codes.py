"""The explain pages and docs/codes.md against the code registry."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from devtools.codes_doc import DOC_PATH, REGENERATE, render_codes_doc
from shotc.codes import CODES, explain_page

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
    assert f"{info.severity}[{code}]" in example, f"{code}: the example shows no diagnostic"
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
