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

# Objects remembered before the oldest are let go: well above one large document's outline
# (3 symbols a scene) and diagnostics, so a document's reused objects stay remembered.
_GENERATION = 50_000


class _Memo:
    """`unstructure` by object identity, in two generations so memory stays bounded."""

    def __init__(self, unstructure: Callable[[Any], Any]) -> None:
        self.unstructure = unstructure
        self.current: dict[int, tuple[object, Any]] = {}
        self.older: dict[int, tuple[object, Any]] = {}

    def __call__(self, obj: object) -> Any:
        key = id(obj)
        found = self.current.get(key)
        if found is None or found[0] is not obj:
            found = self.older.get(key)
            if found is None or found[0] is not obj:
                found = (obj, self.unstructure(obj))
            if len(self.current) >= _GENERATION:
                self.older, self.current = self.current, {}
            self.current[key] = found  # the object is held, so its id is not reused
        return found[1]


def converter() -> cattrs.Converter:
    made: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    for kind in (lsp.DocumentSymbol, lsp.Diagnostic):
        made.register_unstructure_hook(kind, _Memo(made.get_unstructure_hook(kind)))
    return made
