"""The compiler's front door: source files in, diagnostics and request dicts out.

Orchestrates the stages (source → lexer → parser → AST → checks → emit → schema) for `check`,
`build`, `plan` and `run`. Imports nothing from the run machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shotc.diagnostics import Diagnostic, Span, has_errors


class ScriptReadError(Exception):
    """A top-level script that cannot be read or decoded (CLI exit 4)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CompiledScene:
    """One scene, compiled: the createTask body plus what `plan` and `run` show about it."""

    scene_id: str
    script: Path  # absolute path of the .shot file the scene is in
    film_title: str  # the Title setting, or the file stem
    request: dict[str, Any]  # local media as absolute file:// URIs
    shots: int
    seconds: int
    mode: str
    sound: bool
    span: Span  # the SCENE line (or the first SHOT of a file without scenes)


@dataclass(slots=True)
class CompileResult:
    scenes: list[CompiledScene] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def compile_paths(paths: Sequence[Path], *, for_build: bool = True) -> CompileResult:
    """Compile every script in `paths`. `for_build` adds the build-only checks (E312).

    Raises ScriptReadError for a top-level file that cannot be read or decoded.
    """
    raise NotImplementedError
