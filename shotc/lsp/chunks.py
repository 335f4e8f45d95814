"""The language server's front end: a document parsed scene by scene, each chunk's result
reused while its text and first line stay the same, so an edit re-parses only the scene it
touched. The result is the one `parse_text` gives for the whole text (a hypothesis test in
tests/test_lsp_incremental.py holds the two equal over random edit sequences).

Why a chunk boundary is safe: a line that the lexer classifies as `SCENE` and that holds no
`[[` is a `SCENE` line whatever comes before it, and after it the lexer's state is reset (not
in a shot, no open note) and so is the AST builder's (a scene's preamble starts). What a chunk
cannot see of the rest is supplied: the title page learns that scenes follow (it changes how a
stray `SHOT` is read) from a closing `SCENE` line appended to it and dropped from its result,
and each scene's ordinal is set when the chunks are joined.
"""

from __future__ import annotations

import dataclasses

from shotc.language.lexer import classify
from shotc.language.source import MAX_CONTROL_REPORTS, ParsedFile, ParsedParts, parse_parts
from shotc.language.syntax import Script

# Appended to the title page when scenes follow; its line is the next chunk's SCENE line, so
# a note left open on the title page is closed at the same line as in the whole text.
_CLOSING_SCENE = "SCENE -\n"

_Key = tuple[str, int, str, bool]  # (stem, first line, text, closed by a SCENE line)


def split_chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of the title page and of each scene, in order; joined they are
    `text`. A chunk after the first starts at a `SCENE` line."""
    lines = text.split("\n")
    starts = [0]
    for index in range(1, len(lines)):
        raw = lines[index]
        if "SCENE" not in raw or "[[" in raw:
            continue
        line = classify(raw[:-1] if raw.endswith("\r") else raw, index + 1)
        if line is not None and line.kind == "SCENE":
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
        self._current: dict[str, dict[_Key, ParsedParts]] = {}
        self._previous: dict[str, dict[_Key, ParsedParts]] = {}
        self.parsed_chunks = 0  # chunks parsed, not reused (for tests and the benchmark)

    def forget(self, file: str) -> None:
        self._current.pop(file, None)
        self._previous.pop(file, None)

    def __call__(self, text: str, file: str, stem: str) -> ParsedFile:
        chunks = split_chunks(text)
        old = {**self._previous.get(file, {}), **self._current.get(file, {})}
        new: dict[_Key, ParsedParts] = {}
        results = []
        scenes = 0
        for position, (first, body) in enumerate(chunks):
            closed = position == 0 and len(chunks) > 1
            key = (stem, first, body, closed)
            parts = new.get(key) or old.get(key)
            if parts is None:
                parts = self._parse(body, file, stem, first, closed)
            parts = _numbered(parts, scenes)
            scenes += len(parts.script.scenes)
            new[key] = parts  # numbered: the next call finds it ready
            results.append(parts)
        self._previous[file] = self._current.get(file, {})
        self._current[file] = new
        return _join(results, file, stem)

    def _parse(self, body: str, file: str, stem: str, first: int, closed: bool) -> ParsedParts:
        self.parsed_chunks += 1
        if not closed:
            return parse_parts(body, file, stem, first)
        parts = parse_parts(body + _CLOSING_SCENE, file, stem, first)
        script = dataclasses.replace(parts.script, scenes=parts.script.scenes[:-1])
        return dataclasses.replace(parts, script=script)


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
