"""Run stage: what a `plan` or `run` command line selects, shared by both so they cannot drift.

`Selection` carries every option that decides which scenes and takes are sent and at what
price (`--scene`, `--take`, `--mode`, `--resubmit-unknown`, `--budget`); the click layer builds
it with one decorator (`shotc.cli.options.selection_options`) on both commands, and
`shotc.run.planner.plan_run` turns it into jobs for both. `--budget` is kept as written
(credits or dollars) and converted with the price table's `usd_per_credit` once that is read.

Stdlib only: the CLI imports this while parsing options, before any heavy module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

CREDITS, USD = "credits", "usd"

# `1000`, `1000 credits`, `1,000cr`; `$5`, `5$`, `5usd`, `5 USD`, `US$5`. A comma only
# groups thousands: `1,5` is refused, not read as 15 (nor guessed to be 1.5).
_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
_CREDIT_FORMS = (re.compile(rf"{_NUMBER}\s*(?:credits?|cr)?", re.IGNORECASE),)
_USD_FORMS = (
    re.compile(rf"(?:us)?\$\s*{_NUMBER}", re.IGNORECASE),
    re.compile(rf"{_NUMBER}\s*(?:\$|usd|dollars?)", re.IGNORECASE),
)
BUDGET_HINT = "give credits (1000) or dollars ('$5', 5usd, '5 USD')"


class BudgetError(ValueError):
    """A `--budget` that is neither credits nor dollars (a usage error, exit 2)."""


@dataclass(frozen=True, slots=True)
class Budget:
    """`--budget` as the user wrote it: an amount in credits or in US dollars."""

    amount: float
    unit: str  # CREDITS or USD

    def credits(self, usd_per_credit: float) -> float:
        """The budget in credits at this price table's rate (dollars / usd_per_credit)."""
        if self.unit == CREDITS:
            return self.amount
        if usd_per_credit <= 0:
            return math.inf  # credits that cost nothing never exceed a dollar budget
        return self.amount / usd_per_credit

    def __str__(self) -> str:
        if self.unit == USD:
            return f"${self.amount:,.2f}"
        shown = f"{self.amount:,.0f}" if self.amount == int(self.amount) else f"{self.amount:,}"
        return f"{shown} credits"


def parse_budget(text: str) -> Budget:
    """`1000` (credits) or `$5`, `5usd`, `5 USD` (dollars); anything else is a BudgetError
    whose message carries the hint. NaN and infinity are refused: every comparison with NaN
    is false, so `--budget nan` would silently be no budget at all."""
    value = text.strip()
    for unit, forms in ((CREDITS, _CREDIT_FORMS), (USD, _USD_FORMS)):
        for form in forms:
            found = form.fullmatch(value)
            if found is None:
                continue
            number = found.group(1).replace(",", "")
            try:
                amount = float(number)
            except ValueError:
                break
            if not math.isfinite(amount):
                break
            return Budget(amount, unit)
    raise BudgetError(f"{text!r} is not a budget: {BUDGET_HINT}")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which scenes and takes a command sends, in which mode, under which budget."""

    scenes: tuple[str, ...] = ()  # ids or titles as written; empty: every scene
    take: int | None = None  # --take K: only take K; None: takes 1 to each scene's Takes:
    mode: str | None = None
    resubmit_unknown: bool = False
    budget: Budget | None = None


class Titled(Protocol):
    @property
    def scene_id(self) -> str: ...
    @property
    def title(self) -> str: ...


S = TypeVar("S", bound=Titled)


class SceneNotFound(ValueError):
    """A `--scene` that names no scene (a usage error, exit 2), with a did-you-mean."""


def _slug(text: str) -> str:
    from shotc.language.checks import slugify  # the compiler's own: ids are made by it

    return slugify(text, 0) if re.search(r"[A-Za-z0-9]", text) else ""


def matches(scene: Titled, wanted: str) -> bool:
    """`wanted` names this scene: its id, its title as written, or a spelling of the title
    that gives the same id (`5. the cafe` for `5. The cafe`): ids are unique (E205)."""
    if wanted in (scene.scene_id, scene.title):
        return True
    slug = _slug(wanted)
    return bool(slug) and slug == scene.scene_id


def select(scenes: Sequence[S], wanted: Sequence[str]) -> list[S]:
    """The scenes `--scene` names, in script order; every name must match one (else
    SceneNotFound, naming the closest id or title)."""
    if not wanted:
        return list(scenes)
    missing = [w for w in wanted if not any(matches(s, w) for s in scenes)]
    if missing:
        raise SceneNotFound(_not_found(missing, scenes))
    return [s for s in scenes if any(matches(s, w) for w in wanted)]


def _not_found(missing: Sequence[str], scenes: Sequence[Titled]) -> str:
    from shotc.suggest import did_you_mean

    parts = []
    for name in missing:
        ids = [s.scene_id for s in scenes]
        titles = [s.title for s in scenes if s.title]
        guess = did_you_mean(name, ids + titles, fold_case=True)
        hint = f"; did you mean {guess!r}?" if guess else ""
        parts.append(f"no scene {name!r} (neither a scene id nor a title){hint}")
    ids = [s.scene_id for s in scenes]
    listed = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return "; ".join(parts) + f" (scenes: {listed or 'none'})"
