"""The pygls wiring of `shotc lsp`: documents in (full text on every change, so the
compiler's own line model is used on exactly the client's text), features out.

Every handler catches what the analysis throws: an editor's server must never die on a
half-typed script. A failure is logged to the client and answered with nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from shotc import __version__
from shotc.language.scene_memo import SceneMemo
from shotc.lsp import features, outline, wire
from shotc.lsp.analysis import Analysis, analyse
from shotc.lsp.chunks import ChunkParser

T = TypeVar("T")
log = logging.getLogger("shotc.lsp")


def uri_to_path(uri: str) -> Path:
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    # an untitled buffer: give it a path in the working directory so includes resolve there
    return Path.cwd() / (Path(unquote(parts.path)).name or "untitled.shot")


class ShotServer(LanguageServer):
    """Keeps the latest analysis of each open document."""

    def __init__(self) -> None:
        super().__init__(
            "shotc",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
            converter_factory=wire.converter,
            protocol_cls=wire.Protocol,
        )
        self.texts: dict[str, str] = {}
        self.analyses: dict[str, Analysis] = {}  # current: made for the document's text
        self.earlier: dict[str, Analysis] = {}  # stale since an edit: what it made is reused
        self.pending: set[str] = set()  # documents whose diagnostics are to be published
        # one front end for every document: an edit re-parses only the scenes it changed
        self.parser = ChunkParser()
        self.checked = SceneMemo(self.parser.moved_from)  # and re-checks only those

    def encoding(self) -> str:
        chosen = self.workspace.position_encoding if self.protocol._workspace else None
        return str(
            chosen.value if isinstance(chosen, lsp.PositionEncodingKind) else chosen or "utf-16"
        )

    def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text, made now if an edit made it stale."""
        if uri not in self.analyses and uri in self.texts:
            self._analyse(uri)
        return self.analyses.get(uri)

    def _analyse(self, uri: str) -> None:
        buffers = {uri_to_path(u): t for u, t in self.texts.items()}
        try:
            result = analyse(
                uri_to_path(uri),
                self.texts[uri],
                buffers,
                self.encoding(),
                self.parser,
                self.checked,
            )
        except Exception:  # never die on a half-typed script; report and carry on
            log.exception("analysis of %s failed", uri)
            return
        earlier = self.earlier.pop(uri, None)
        if earlier is not None:  # unchanged scenes and diagnostics keep their LSP objects
            result.inherit(earlier)
        self.analyses[uri] = result

    def refresh(self, uri: str) -> None:
        """Mark the document's analysis stale and publish its diagnostics soon: after the
        requests already waiting (a completion typed with the edit is answered first, and
        makes the analysis the publication then reuses), and once for a burst of edits."""
        known = self.analyses.pop(uri, None)
        if known is not None:
            self.earlier[uri] = known
        if uri in self.pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the server's loop (a unit test): at once
            self.publish(uri)
            return
        self.pending.add(uri)
        loop.call_soon(self.publish, uri)

    def publish(self, uri: str) -> None:
        self.pending.discard(uri)
        found = self.analysis(uri) if uri in self.texts else None
        if found is None:
            return  # closed meanwhile, or the analysis failed (logged)
        try:
            diagnostics = features.diagnostics(found)
        except Exception:  # a callback of the loop: log, never take the server down
            log.exception("diagnostics of %s failed", uri)
            return
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
        )

    def changed(self, uri: str, text: str) -> None:
        self.texts[uri] = text
        self.refresh(uri)
        # a cast file edited: the open scripts that include it see it at once
        path = uri_to_path(uri)
        for other, known in [*self.analyses.items(), *self.earlier.items()]:
            if other != uri and path in known.files:
                self.refresh(other)


server = ShotServer()


def _guard(default: T, run: Callable[[], T]) -> T:
    try:
        return run()
    except Exception:
        log.exception("request failed")
        return default


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ShotServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.changed(params.text_document.uri, params.text_document.text)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: ShotServer, params: lsp.DidChangeTextDocumentParams) -> None:
    text = ls.texts.get(params.text_document.uri, "")
    for change in params.content_changes:
        if isinstance(change, lsp.TextDocumentContentChangeWholeDocument):
            text = change.text
    ls.changed(params.text_document.uri, text)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: ShotServer, params: lsp.DidSaveTextDocumentParams) -> None:
    # media files beside the script may have appeared: check again
    if params.text_document.uri in ls.texts:
        ls.refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ShotServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.texts.pop(uri, None)
    ls.analyses.pop(uri, None)
    ls.earlier.pop(uri, None)
    ls.parser.forget(str(uri_to_path(uri)))
    ls.checked.forget(uri_to_path(uri))
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(
    lsp.TEXT_DOCUMENT_COMPLETION,
    lsp.CompletionOptions(trigger_characters=["@", " ", ":"]),
)
def completion(ls: ShotServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    found = ls.analysis(params.text_document.uri)
    items: list[lsp.CompletionItem] = []
    if found is not None:
        items = _guard(items, lambda: features.completion(found, params.position))
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: ShotServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = ls.analysis(params.text_document.uri)
    return _guard(None, lambda: features.hover(found, params.position)) if found else None


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: ShotServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    found = ls.analysis(params.text_document.uri)
    return _guard(None, lambda: features.definition(found, params.position)) if found else None


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: ShotServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    found = ls.analysis(params.text_document.uri)
    return _guard([], lambda: outline.document_symbols(found)) if found else []


@server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
def folding(ls: ShotServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange]:
    found = ls.analysis(params.text_document.uri)
    return _guard([], lambda: outline.folding_ranges(found)) if found else []


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: ShotServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    found = ls.analysis(params.text_document.uri)
    return _guard([], lambda: outline.formatting(found)) if found else []


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
)
def code_action(ls: ShotServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    found = ls.analysis(uri)
    return _guard([], lambda: outline.code_actions(found, uri, params.range)) if found else []


def serve() -> None:
    """Speak LSP on stdin/stdout until the client says exit."""
    server.start_io()
