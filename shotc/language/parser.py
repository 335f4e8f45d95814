"""Stage 2: the parser. Drives the LALR(1) tables generated from `grammar/shot.lark` over
the line terminals of `shotc.language.lexer`, producing a parse tree of `Node`s whose leaves are the
lexer's `Line`s.

The tables are produced by Lark's own LALR analyser (`python -m devtools.generate`), so Lark is
the reference for the grammar, but the hot path imports neither Lark nor its runtime: a
one-scene `shotc build` must start faster than `import lark`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shotc.language import _generated_parser as tables
from shotc.language.lexer import Line

_SHIFT_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class Node:
    """An interior node of the parse tree: a grammar rule and its children."""

    rule: str
    children: tuple[Node | Line, ...]


class ParserBug(Exception):
    """The grammar accepts every sequence of lines; reaching this is a shotc bug."""


def parse(lines: Iterable[Line]) -> Node:
    actions = tables.ACTIONS
    rules = tables.RULES
    states: list[int] = [tables.START_STATE]
    # Each value is a fresh list of the children a symbol contributes to its parent, so the
    # first one can be extended in place: `x*` repetitions stay linear, not quadratic.
    values: list[list[Node | Line]] = [[]]
    for line in lines:
        kind = line.kind
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise ParserBug(f"no parse action for {kind} at line {line.number}")
            if action >= 0:
                states.append(action)
                values.append([line])
                break
            _reduce(states, values, rules[-action - 1], actions)
    while states[-1] != tables.END_STATE:
        action = actions[states[-1]].get("$END")
        if action is None or action >= 0:
            raise ParserBug("no parse action at the end of the file")
        _reduce(states, values, rules[-action - 1], actions)
    (root,) = values[-1]
    assert isinstance(root, Node)
    return root


def _reduce(
    states: list[int],
    values: list[list[Node | Line]],
    rule: tuple[str, int, int],
    actions: list[dict[str, int]],
) -> None:
    name, size, mode = rule
    if size == 0:
        children: list[Node | Line] = []
    elif size == 1:
        children = values.pop()
        states.pop()
    else:
        children = values[-size]
        for value in values[-size + 1 :]:
            children.extend(value)
        del states[-size:]
        del values[-size:]
    # mode 0: a node of its own; 1: `_rule`, spliced into its parent; 2: `?rule`, spliced
    # when it has a single child (Lark's tree-shaping conventions)
    if mode == 1 or (mode == 2 and len(children) == 1):
        values.append(children)
    else:
        values.append([Node(name, tuple(children))])
    states.append(actions[states[-1]][name])
