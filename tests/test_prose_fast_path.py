"""The prose fast paths change nothing: a shot read by `_plain` equals the general reading,
`wrong_case_directive`'s one-match precheck agrees with its patterns (including the letters
that (?i) matches beyond ASCII: `ſ`, `K`, `İ`, `ı`), and `_Visible.col` agrees with the
per-character column list it replaced."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_robustness import FRAGMENTS

from shotc.language import prose
from shotc.language.lexer import tokenize
from shotc.language.prose import _SCENE_WRONG_CASE, _WRONG_CASE, _Visible, read_shot, shot_prose

_WORDS = [*FRAGMENTS, "The dog", "runs", ' "x"', "MARA:", "ſhot 3s", "\u212aelement @a", "'"]
_line = st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=5)), max_size=8).map("".join)


def _shot_lines(raw: list[str]) -> list:  # type: ignore[type-arg]
    text = "SHOT 3s\n" + "\n".join(line.replace("\n", " ").replace("\r", " ") for line in raw)
    return [line for line in tokenize(text) if line.number > 1]


@settings(max_examples=400, deadline=None)
@given(raw=st.lists(_line, max_size=6))
def test_plain_shots_read_as_the_general_path_reads_them(raw: list[str]) -> None:
    lines = _shot_lines(raw)
    assert shot_prose(lines, "f.shot") == read_shot(lines, "f.shot")


def test_the_fast_path_is_taken_for_plain_prose() -> None:
    lines = _shot_lines(["Close up on the door,", "", "which  opens slowly."])
    fast = prose._plain(lines)
    assert fast is not None and fast == read_shot(lines, "f.shot")
    assert fast.prompt == "Close up on the door,\nwhich opens slowly."


def _slow_wrong_case(body: str, scene_too: bool) -> str | None:
    patterns = _WRONG_CASE + (((_SCENE_WRONG_CASE, "SCENE"),) if scene_too else ())
    for pattern, keyword in patterns:
        match = pattern.fullmatch(body)
        if match is not None and match.group(1) != keyword:
            if keyword == "SHOT":
                return f"SHOT {match.group(2)}s"
            rest = body[match.end(1) :].strip()
            return f"{keyword} {rest}" if rest else keyword
    return None


@settings(max_examples=400, deadline=None)
@given(body=_line, scene_too=st.booleans())
def test_the_wrong_case_precheck_agrees(body: str, scene_too: bool) -> None:
    assert prose.wrong_case_directive(body, scene_too=scene_too) == _slow_wrong_case(
        body, scene_too
    )
    for odd in ("ſhot 3s", "\u212aelement", "İnclude x", "ınclude x", "sCeNe x"):
        assert prose.wrong_case_directive(odd, scene_too=True) == _slow_wrong_case(odd, True)


@given(
    segments=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6)), min_size=2, max_size=5),
    i=st.integers(-3, 40),
)
def test_visible_columns_agree_with_the_expanded_list(
    segments: list[tuple[int, int]], i: int
) -> None:
    ranges = [(lo, lo + n) for lo, n in segments]
    (line,) = tokenize("x" * 40)
    visible = _Visible(line, ranges, False)
    cols = [c for lo, hi in ranges for c in range(lo, hi)]
    if i < 0 and -i > len(cols):
        return  # an IndexError both ways; never asked for
    expected = cols[i] if i < len(cols) else (cols[-1] + 1 if cols else 0)
    assert visible.col(i) == expected
