"""Diagnostics: the one problem record of shotc, and the one way of collecting them.

Every stage returns its problems (never raises): the compiler's (`check`, `build`, the
editor), `validate`'s and `decompile`'s. A diagnostic is a code from the registry
(`shotc.codes`; a problem of a JSON request may have none), a message, where it is and an
optional help line. Where is a span of a source file, or, for a problem in a createTask
request (`validate`, `decompile`), the request's JSON path (`input.multi_prompt[2].duration`)
with a span that names only the file. Its severity follows from its code (`severity_of`)
unless the stage says otherwise: a note, or `decompile` refusing on a warning's rule.
Tests assert on code and position; wording is free to improve. `shotc.render` prints both.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


def severity_of(code: str | None) -> Severity:
    """The one rule: a `W` code is a warning, any other code (or none) an error."""
    return "warning" if code is not None and code.startswith("W") else "error"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file: 1-based line and column, end exclusive (one past the last
    character). Columns count code points."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(file: str, line: int, column: int) -> Span:
        return Span(file, line, column, line, column + 1)

    @staticmethod
    def whole(file: str) -> Span:
        """A file as a whole, no line in it: where a problem of a JSON request stands (its
        path says where in the request)."""
        return Span(file, 0, 0, 0, 0)

    def moved(self, delta: int) -> Span:
        """The same columns, `delta` lines further down (a file as a whole stays one)."""
        if self.line <= 0:
            return self
        return Span(
            self.file, self.line + delta, self.column, self.end_line + delta, self.end_column
        )


# a diagnostic's text that may name a line (Diagnostic.names_a_line)
_LINE_IN_TEXT = re.compile(r"(?i)\bline\b|:\d")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str | None  # the compiler's always has one; a request's may not
    message: str
    span: Span
    help: str | None = None
    path: str = ""  # a JSON path (`$` the root): a problem in a request; the span names its file
    level: Severity | None = None  # None: from the code, as `severity_of` says

    @property
    def severity(self) -> Severity:
        return self.level or severity_of(self.code)

    @property
    def is_error(self) -> bool:
        return (self.level or severity_of(self.code)) == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.column, self.code or "")

    def names_a_line(self) -> bool:
        """Whether its text may hold a line number ("the first is on line 12", "film.shot:12"):
        the editor, moving a scene's diagnostics with its lines, cannot move that number."""
        return _LINE_IN_TEXT.search(f"{self.message} {self.help}") is not None

    def moved(self, delta: int) -> Diagnostic:
        """The same diagnostic, `delta` lines further down (the editor's reuse)."""
        return dataclasses.replace(self, span=self.span.moved(delta))

    def located(self, file: str, path: str) -> Diagnostic:
        """This request problem as found in `file`, at `path` there (a request inside an
        array or a recordInfo answer is not at the top of its file)."""
        return dataclasses.replace(self, span=Span.whole(file), path=path)

    def to_json(self) -> dict[str, object]:
        s = self.span
        if self.path:
            return {
                "file": s.file,
                "path": self.path,
                "code": self.code,
                "severity": self.severity,
                "message": self.message,
            }
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": s.file,
            "line": s.line,
            "column": s.column,
            "end_line": s.end_line,
            "end_column": s.end_column,
            "help": self.help,
        }


class Problems(list[Diagnostic]):
    """The one way of collecting diagnostics: a list of them in the order found, with a
    method per kind. `where` is a source span, or a JSON path for a problem in a request (of
    the file `file`, "" until the caller places it: `Diagnostic.located`). `add` takes the
    severity from the code; `error`, `warning` and `note` say it."""

    def __init__(self, file: str = "") -> None:
        super().__init__()
        self.file = file

    def add(
        self,
        code: str | None,
        message: str,
        where: Span | str,
        help: str | None = None,
        *,
        level: Severity | None = None,
    ) -> None:
        if isinstance(where, Span):
            self.append(Diagnostic(code, message, where, help, "", level))
        else:
            self.append(Diagnostic(code, message, Span.whole(self.file), help, where, level))

    def error(
        self, code: str | None, message: str, where: Span | str, help: str | None = None
    ) -> None:
        self.add(code, message, where, help, level="error")

    def warning(
        self, code: str | None, message: str, where: Span | str, help: str | None = None
    ) -> None:
        self.add(code, message, where, help, level="warning")

    def note(
        self, code: str | None, message: str, where: Span | str, help: str | None = None
    ) -> None:
        self.add(code, message, where, help, level="note")


def sorted_diagnostics(diags: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=Diagnostic.sort_key)


def has_errors(diags: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)
