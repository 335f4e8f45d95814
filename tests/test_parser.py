"""Stage 2: the generated LALR tables are fresh, and the runtime driver builds the same tree
as Lark itself for any sequence of line terminals."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devtools import parsergen
from shotc import grammar_path
from shotc.language import _generated_parser as tables
from shotc.language.lexer import Line, LineKind
from shotc.language.parser import Node, parse

TERMINALS = [
    "SCENE",
    "SHOT",
    "ELEMENT",
    "FIRST_FRAME",
    "LAST_FRAME",
    "INCLUDE",
    "SETTING",
    "REFERENCE",
    "PROSE",
    "BLANK",
]
_LARK = parsergen.build_lark_parser()


def test_generated_tables_are_fresh() -> None:
    current = parsergen.generated_path().read_text("utf-8")
    assert current == parsergen.generate_parser_source(), (
        "shotc/language/_generated_parser.py is stale: run `python -m devtools.generate`"
    )


def test_line_kinds_are_the_grammars_terminals() -> None:
    text = grammar_path().read_text("utf-8")
    declared = next(line for line in text.splitlines() if line.startswith("%declare")).split()
    assert set(declared[1:]) == set(LineKind) == set(TERMINALS)
    # the tables are keyed by the terminals' names, the values the lexer's kinds equal
    keys = {key for actions in tables.ACTIONS for key in actions if key.isupper()}
    assert keys - {"$END"} == {kind.value for kind in LineKind}


def _ours(kinds: list[str]) -> Any:
    lines = [Line(LineKind(kind), i + 1, "x", 0, 1, 0) for i, kind in enumerate(kinds)]

    def shape(node: Node | Line) -> Any:
        if isinstance(node, Line):
            return (node.kind, node.number)
        return (node.rule, [shape(c) for c in node.children])

    return shape(parse(lines))


def _lark(kinds: list[str]) -> Any:
    from lark import Token, Tree

    ip = _LARK.parse_interactive("")
    for i, kind in enumerate(kinds):
        ip.feed_token(Token(kind, "x", line=i + 1))
    tree = ip.feed_eof()

    def shape(node: Any) -> Any:
        if isinstance(node, Tree):
            return (str(node.data), [shape(c) for c in node.children])
        assert isinstance(node, Token)
        return (node.type, node.line)

    return shape(tree)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TERMINALS), max_size=40))
def test_driver_matches_lark(kinds: list[str]) -> None:
    assert _ours(kinds) == _lark(kinds)


def test_tree_shape_of_a_script() -> None:
    tree = _ours(
        [
            "SETTING",
            "ELEMENT",
            "REFERENCE",
            "BLANK",
            "SCENE",
            "FIRST_FRAME",
            "SHOT",
            "PROSE",
            "SHOT",
            "PROSE",
        ]
    )
    assert tree == (
        "start",
        [
            (
                "title_page",
                [("SETTING", 1), ("element", [("ELEMENT", 2), ("REFERENCE", 3), ("BLANK", 4)])],
            ),
            (
                "scene",
                [
                    ("SCENE", 5),
                    ("FIRST_FRAME", 6),
                    ("shot", [("SHOT", 7), ("PROSE", 8)]),
                    ("shot", [("SHOT", 9), ("PROSE", 10)]),
                ],
            ),
        ],
    )


def test_empty_input() -> None:
    assert _ours([]) == ("start", [("title_page", [])])
