"""Did-you-mean suggestions for diagnostics' help lines (only loaded on the error path)."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, options: Iterable[str], *, fold_case: bool = False) -> str | None:
    import difflib

    choices = list(options)
    if fold_case:
        by_lower = {c.lower(): c for c in choices}
        found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
        return by_lower[found[0]] if found else None
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None
