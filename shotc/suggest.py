"""Did-you-mean suggestions for diagnostics' help lines (only loaded on the error path)."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable


def did_you_mean(word: str, options: Iterable[str], *, fold_case: bool = False) -> str | None:
    choices = tuple(options)
    if len(choices) <= _SMALL:  # a fixed table (keys, enum values): asked again and again
        return _closest(word, choices, fold_case)
    return _closest.__wrapped__(word, choices, fold_case)


_SMALL = 64


@functools.lru_cache(maxsize=1024)
def _closest(word: str, choices: tuple[str, ...], fold_case: bool) -> str | None:
    import difflib

    if fold_case:
        by_lower = {c.lower(): c for c in choices}
        found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
        return by_lower[found[0]] if found else None
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


# A did-you-mean compares the word with every option; a script with many undeclared cues and
# many elements would do that cues x elements times (quadratic: 10,000 lines took 44 s). So a
# Suggester remembers its answers per word and stops searching once it has compared this many
# (word, option) pairs; past that the help line is the plain one. Scripts a person writes stay
# far below it (a hundred typos against a hundred elements is 10,000 comparisons).
SUGGESTION_BUDGET = 100_000


class Suggester:
    """did_you_mean for one set of options asked many times (the cues of one file): answers
    remembered per word, the total work bounded by SUGGESTION_BUDGET comparisons."""

    __slots__ = ("_answers", "_spent")

    def __init__(self) -> None:
        self._answers: dict[str, str | None] = {}
        self._spent = 0

    def guess(self, word: str, options: Collection[str]) -> str | None:
        if word in self._answers:
            return self._answers[word]
        if self._spent + len(options) > SUGGESTION_BUDGET:
            return None
        self._spent += len(options)
        answer = self._answers[word] = did_you_mean(word, options)
        return answer
