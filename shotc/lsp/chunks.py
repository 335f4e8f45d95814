"""The language server's front end: a document parsed scene by scene, each chunk's result
reused while its text stays the same (moved when lines above it were inserted or deleted),
so an edit re-parses only the scene it touched. The result is the one `parse_text` gives for
the whole text (a hypothesis test in tests/test_lsp_incremental.py holds the two equal over
random edit sequences).

Why a chunk boundary is safe: a line that the lexer classifies as `SCENE` and that holds no
`[[` is a `SCENE` line whatever comes before it, and after it the lexer's state is reset (not
in a shot, no open note) and so is the AST builder's (a scene's preamble starts). What a chunk
cannot see of the rest is supplied: the title page learns that scenes follow (it changes how a
stray `SHOT` is read) from a closing `SCENE` line appended to it and dropped from its result,
and each scene's ordinal is set when the chunks are joined.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from shotc.diagnostics import Span
from shotc.language.lexer import LineKind, classify
from shotc.language.source import MAX_CONTROL_REPORTS, ParsedFile, ParsedParts, parse_parts
from shotc.language.syntax import Scene, Script

# Appended to the title page when scenes follow; its line is the next chunk's SCENE line, so
# a note left open on the title page is closed at the same line as in the whole text.
_CLOSING_SCENE = "SCENE -\n"

_Key = tuple[str, str, bool]  # (stem, text, closed by a SCENE line)


@functools.lru_cache(maxsize=1 << 14)  # the same SCENE lines again on every edit
def _is_scene_line(raw: str) -> bool:
    """Whether the lexer reads this line as a `SCENE` line (its kind depends on its text)."""
    line = classify(raw, 1)
    return line is not None and line.kind == LineKind.SCENE


def split_chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of the title page and of each scene, in order; joined they are
    `text`. A chunk after the first starts at a `SCENE` line."""
    lines = text.split("\n")
    starts = [0]
    for index in range(1, len(lines)):
        raw = lines[index]
        if "SCENE" not in raw or "[[" in raw:
            continue
        if _is_scene_line(raw[:-1] if raw.endswith("\r") else raw):
            starts.append(index)
    ends = [*starts[1:], len(lines)]
    chunks = []
    for start, end in zip(starts, ends, strict=True):
        body = "\n".join(lines[start:end])
        chunks.append((start + 1, body + "\n" if end < len(lines) else body))
    return chunks


class ChunkParser:
    """A `compiler.Parser` that remembers the chunks of each file it parsed last (and the
    time before, so an undo finds them): the memory is about two copies of each open
    document's AST."""

    def __init__(self) -> None:
        self._current: dict[str, dict[_Key, _Entry]] = {}
        self._previous: dict[str, dict[_Key, _Entry]] = {}
        self.parsed_chunks = 0  # chunks parsed, not reused (for tests and the benchmark)
        # per file, of its last parse: id(scene) -> (scene, the scene it was made from by
        # moving its lines or renumbering it, how many lines it moved)
        self._moves: dict[str, dict[int, tuple[Scene, Scene, int]]] = {}

    def forget(self, file: str) -> None:
        self._current.pop(file, None)
        self._previous.pop(file, None)
        self._moves.pop(file, None)

    def moved_from(self, scene: Scene) -> tuple[Scene, int] | None:
        """The scene of an earlier parse this one is, but for its place (its lines moved by
        the number given, its ordinal changed): the editor's memo moves what it knew of it."""
        for moves in self._moves.values():
            found = moves.get(id(scene))
            if found is not None and found[0] is scene:
                return found[1], found[2]
        return None

    def __call__(self, text: str, file: str, stem: str) -> ParsedFile:
        chunks = split_chunks(text)
        old = {**self._previous.get(file, {}), **self._current.get(file, {})}
        new: dict[_Key, _Entry] = {}
        results = []
        scenes = 0
        moves: dict[int, tuple[Scene, Scene, int]] = {}
        for position, (first, body) in enumerate(chunks):
            closed = position == 0 and len(chunks) > 1
            key = (stem, body, closed)
            entry = found = new.get(key) or old.get(key)
            if entry is None or (entry.first != first and not entry.movable):
                entry = self._parse(body, file, stem, first, closed)
                found = None
            elif entry.first != first:
                # lines inserted or deleted above: the same chunk, moved (faster than parsing)
                entry = _Entry(first, _moved(entry.parts, first - entry.first), True)
            parts = _numbered(entry.parts, scenes)
            scenes += len(parts.script.scenes)
            if found is not None:
                before = found.parts.script.scenes
                for was, scene in zip(before, parts.script.scenes, strict=True):
                    if scene is not was:
                        moves[id(scene)] = (scene, was, first - found.first)
            if parts is not entry.parts or first != entry.first:  # the next call finds it
                entry = _Entry(first, parts, entry.movable)
            new[key] = entry
            results.append(parts)
        self._previous[file] = self._current.get(file, {})
        self._current[file] = new
        self._moves[file] = moves
        return _join(results, file, stem)

    def _parse(self, body: str, file: str, stem: str, first: int, closed: bool) -> _Entry:
        self.parsed_chunks += 1
        if not closed:
            parts = parse_parts(body, file, stem, first)
        else:
            parts = parse_parts(body + _CLOSING_SCENE, file, stem, first)
            script = dataclasses.replace(parts.script, scenes=parts.script.scenes[:-1])
            parts = dataclasses.replace(parts, script=script)
        found = (*parts.control, *parts.structure, *parts.notes)
        movable = not any(d.names_a_line() for d in found)
        return _Entry(first, parts, movable)


@dataclass(frozen=True, slots=True)
class _Entry:
    first: int  # the chunk's first line when `parts` was made
    parts: ParsedParts
    movable: bool  # no diagnostic names a line in its text: moving the spans moves it all


# each AST class's fields, and whether the field's declared type holds no line (copied as is)
_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}
_PLAIN = frozenset({"str", "int", "bool", "str | None", "int | None"})


def _moved(value: Any, delta: int) -> Any:
    """`value` (a front-end result, its AST and diagnostics) with every line number moved by
    `delta`: the spans' lines and a script's library lines. Nothing else in them is a line."""
    kind = type(value)
    if kind is Span:
        return Span(
            value.file, value.line + delta, value.column, value.end_line + delta, value.end_column
        )
    if kind is tuple:
        return tuple([_moved(item, delta) for item in value])
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is frozenset:  # Script.library_lines
        return frozenset([line + delta for line in value])
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(
            (f.name, f.type in _PLAIN) for f in dataclasses.fields(value)
        )
    return kind(
        *[
            getattr(value, name) if plain else _moved(getattr(value, name), delta)
            for name, plain in fields
        ]
    )


def _numbered(parts: ParsedParts, before: int) -> ParsedParts:
    """`parts` with its scenes numbered after the `before` scenes of the chunks above it."""
    scenes = parts.script.scenes
    if all(scene.index == before + i for i, scene in enumerate(scenes, start=1)):
        return parts
    renumbered = tuple(
        dataclasses.replace(scene, index=before + i) for i, scene in enumerate(scenes, start=1)
    )
    return dataclasses.replace(parts, script=dataclasses.replace(parts.script, scenes=renumbered))


def _join(results: list[ParsedParts], file: str, stem: str) -> ParsedFile:
    if len(results) == 1:
        only = results[0]
        return ParsedFile(only.script, (*only.control, *only.structure, *only.notes))
    control = [d for parts in results for d in parts.control][:MAX_CONTROL_REPORTS]
    structure = [d for parts in results for d in parts.structure]
    notes = [d for parts in results for d in parts.notes]
    scripts = [parts.script for parts in results]
    scenes = [scene for script in scripts for scene in script.scenes]
    library: set[int] = set()
    for script in scripts:
        library.update(script.library_lines)
    script = Script(
        file,
        stem,
        tuple(s for script in scripts for s in script.settings),
        tuple(i for script in scripts for i in script.includes),
        tuple(e for script in scripts for e in script.elements),
        tuple(scenes),
        any(scene.shots for scene in scenes),
        frozenset(library),
    )
    return ParsedFile(script, (*control, *structure, *notes))
