"""Diagnostics: the structured error records every stage returns (never raises).

A diagnostic is a code from the registry (`shotc.codes`), a message, a span and an optional
help line. Tests assert on code and position; wording is free to improve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


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


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    help: str | None = None

    @property
    def severity(self) -> Severity:
        return severity_of(self.code)

    @property
    def is_error(self) -> bool:
        return severity_of(self.code) == "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.column, self.code)

    def to_json(self) -> dict[str, object]:
        s = self.span
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


def sorted_diagnostics(diags: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=Diagnostic.sort_key)


def has_errors(diags: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)
