"""The server's JSON: pygls' converter and protocol, except that the LSP objects the server
keeps across document versions (outline symbols, diagnostics: shotc/lsp/outline.py,
features.py) are turned into JSON-ready dicts, and into JSON text, once each, not on every
message, and that messages are written without the spaces after `,` and `:`. On a 1,000-scene
outline (800 kB of JSON) that is most of the server's time spent answering."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import cattrs
from lsprotocol import types as lsp
from pygls.protocol import LanguageServerProtocol, default_converter

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


_COMPACT = (",", ":")


class Protocol(LanguageServerProtocol):
    """pygls' protocol, writing the kept objects' JSON text as made the first time: a list of
    them (the diagnostics published, an outline) is spliced into its message's JSON."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._texts = {
            kind: _Memo(self._text_of, generation) for kind, generation in _GENERATIONS.items()
        }
        self._joined: tuple[object, str] | None = None  # the last list spliced, and its text
        self._writing: set[asyncio.Future[Any]] = set()

    def _text_of(self, obj: object) -> str:
        return json.dumps(self._converter.unstructure(obj), separators=_COMPACT)

    def encode(self, data: Any) -> str:
        """The message's JSON text (what pygls writes, but compact)."""
        found = _kept_list(data)
        if found is not None:
            skeleton, field, items = found
            text = json.dumps(skeleton, default=self._serialize_message, separators=_COMPACT)
            empty = f'"{field}":[]'  # a string in the JSON cannot hold it: its quotes are bare
            if empty in text:
                if self._joined is None or self._joined[0] is not items:
                    kind = type(items[0])
                    joined = ",".join([self._texts[kind](item) for item in items])
                    self._joined = (items, joined)
                return text.replace(empty, f'"{field}":[{self._joined[1]}]', 1)
        return json.dumps(data, default=self._serialize_message, separators=_COMPACT)

    def _send_data(self, data: Any) -> None:
        if not data or self.writer is None:
            super()._send_data(data)  # nothing to send, or no transport: pygls says so
            return
        try:
            body = self.encode(data)
        except Exception:  # pygls' own way, which reports what failed
            super()._send_data(data)
            return
        header = (
            f"Content-Length: {len(body)}\r\n"  # the body is ASCII (json.dumps escapes the rest)
            f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
        )
        written = self.writer.write((header + body).encode(self.CHARSET))
        if inspect.isawaitable(written):  # an asynchronous transport: held till written
            future = asyncio.ensure_future(written)
            self._writing.add(future)
            future.add_done_callback(self._writing.discard)


def _kept_list(data: Any) -> tuple[Any, str, Sequence[Any]] | None:
    """(the message with the list emptied, the list's field, the list) for a message whose
    list holds kept objects of one kind: a diagnostics notification, an outline response."""
    if isinstance(data, lsp.PublishDiagnosticsNotification):
        items: Any = data.params.diagnostics
        params = attrs.evolve(data.params, diagnostics=[])
        skeleton, field = attrs.evolve(data, params=params), "diagnostics"
    else:
        items = getattr(data, "result", None)
        if not isinstance(items, list) or not attrs.has(type(data)):
            return None
        skeleton, field = attrs.evolve(data, result=[]), "result"
    if not items or type(items[0]) not in _GENERATIONS:
        return None
    kind = type(items[0])
    if any(type(item) is not kind for item in items):
        return None
    return skeleton, field, items
