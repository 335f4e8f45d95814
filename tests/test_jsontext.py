"""`build`'s JSON writer is `json.dumps(value, indent=2, ensure_ascii=False)`, character for
character, for every JSON value (floats and odd keys go to json.dumps itself)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shotc.request.jsontext import dumps_indented

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.sampled_from(["é", "\u2028", '"\\', "\x00"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), inner, max_size=4),
    ),
    max_leaves=30,
)


class _Mode(StrEnum):
    PRO = "pro"


@given(value=_values)
def test_the_text_is_json_dumps_text(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_request_with_enums_and_empty_containers() -> None:
    value = {"input": {"mode": _Mode.PRO, "urls": [], "x": {}, "n": 5, "sound": True}}
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
