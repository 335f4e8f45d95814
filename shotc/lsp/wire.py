"""The server's JSON converter: pygls' own, except that the LSP objects the server keeps
across document versions (outline symbols, diagnostics: shotc/lsp/outline.py, features.py)
are turned into JSON-ready dicts once each, not on every response. On a 1,000-scene outline
that is most of the server's time spent answering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cattrs
from lsprotocol import types as lsp
from pygls.protocol import default_converter

# Objects of each kind remembered before the oldest generation is let go: a 1,000-scene
# outline has 3,001 symbols; its diagnostics are about 1,000. A larger document only loses
# the saving (its objects are serialised afresh), never correctness; memory stays bounded
# (two generations: a few MB of dicts), whatever the edits.
_GENERATIONS = {lsp.DocumentSymbol: 4_000, lsp.Diagnostic: 1_500}


class _Memo:
    """`unstructure` by object identity, in two generations so memory stays bounded."""

    def __init__(self, unstructure: Callable[[Any], Any], generation: int) -> None:
        self.unstructure = unstructure
        self.generation = generation
        self.current: dict[int, tuple[object, Any]] = {}
        self.older: dict[int, tuple[object, Any]] = {}

    def __call__(self, obj: object) -> Any:
        key = id(obj)
        found = self.current.get(key)
        if found is None or found[0] is not obj:
            found = self.older.get(key)
            if found is None or found[0] is not obj:
                found = (obj, self.unstructure(obj))
            if len(self.current) >= self.generation:
                self.older, self.current = self.current, {}
            self.current[key] = found  # the object is held, so its id is not reused
        return found[1]


def converter() -> cattrs.Converter:
    made: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    for kind, generation in _GENERATIONS.items():
        made.register_unstructure_hook(kind, _Memo(made.get_unstructure_hook(kind), generation))
    return made
