"""Run stage: the order and the marks of `status` for its scripts (those named on the command
line, else those the ledger names that are still beside it).

cli.md and film.md ("On disk") ask `status` for the scenes in script order with the current
version and the cut's take marked. The ledger alone knows only what was sent, in the order it
was sent; this module compiles each script (no network; its media are read for their
digests, as `plan` does) and lays the ledger's rows out as a writer reads the script:

- the scenes in script order; under each, its current version's takes in the scene's own
  mode by number, then its drafts, then its older versions (the most recent first), as
  `shotc.film.takes.scene_takes` orders them;
- then what the ledger holds under scene ids the script no longer has (`gone`).

Each row gets a `version` mark (`current`, `draft`, `older`, `gone`) and a `cut` mark: `cut`
for the take the cut uses, `pick` when that take was chosen with `shotc pick`, `with --drafts`
for the draft that `shotc cut --drafts` would use where no take of the scene's own mode is
finished. A script that cannot be compiled (unreadable, or a media file missing) keeps the
ledger's order, unmarked, with a warning: `status` still shows every paid task, which is what
matters most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.ledger_schema import Submission

CURRENT = "current"
DRAFT = "draft"
OLDER = "older"
GONE = "gone"  # sent under a scene id the script no longer has
CUT = "cut"
PICK = "pick"
CUT_DRAFTS = "with --drafts"  # only a draft is finished: `shotc cut --drafts` uses it


@dataclass(frozen=True, slots=True)
class Marks:
    version: str = ""  # CURRENT, DRAFT, OLDER, GONE; "" where the script is not known
    cut: str = ""  # CUT, PICK or ""


Row = tuple[Ledger, Submission, Marks]


def arrange(
    files: Sequence[Path],
    subs: Sequence[tuple[Ledger, Submission]],
    warn: Callable[[str], None],
) -> list[Row]:
    """`subs` (the ledger's latest attempts) in script order with their marks."""
    left = {(id(ledger), sub.id): (ledger, sub) for ledger, sub in subs}
    rows: list[Row] = []
    for script in files:
        ledger = _ledger_of(script, subs)
        if ledger is None:
            continue
        try:
            rows += _script_rows(script, ledger, left)
        except Exception as exc:  # any failure to compile: keep the ledger order
            warn(f"{script}: shown in the ledger's order ({_why(exc)})")
    sent_from: dict[int, set[str]] = {}  # per ledger: the scripts' names as it stores them
    for ledger, sub in left.values():
        names = sent_from.setdefault(id(ledger), {ledger.script_name(f) for f in files})
        # sent from one of the scripts under an id it no longer has: gone from it
        rows.append((ledger, sub, Marks(version=GONE) if sub.script in names else Marks()))
    return rows


def _ledger_of(script: Path, subs: Sequence[tuple[Ledger, Submission]]) -> Ledger | None:
    want = ledger_path_for(script)
    for ledger, _sub in subs:
        if ledger.home == want:
            return ledger
    return None


def _script_rows(
    script: Path, ledger: Ledger, left: dict[tuple[int, int], tuple[Ledger, Submission]]
) -> list[Row]:
    # Imported here: only `status FILE` needs the compiler and the film's view of takes.
    from shotc.film.takes import scene_takes
    from shotc.language.compiler import compile_paths

    scenes = compile_paths([script]).scenes
    rows: list[Row] = []
    for st in scene_takes(scenes, ledger):
        chosen = st.chosen()
        mark = PICK if st.pick is not None and not st.pick.stale else CUT
        if chosen is None:
            chosen, mark = st.chosen(drafts=True), CUT_DRAFTS
        for take in st.takes:
            entry = left.pop((id(ledger), take.submission_id), None)
            if entry is None:
                continue
            version = OLDER if not take.current else DRAFT if take.draft else CURRENT
            chose = chosen is not None and take.submission_id == chosen.submission_id
            cut = mark if chose else ""
            rows.append((ledger, entry[1], Marks(version, cut)))
    return rows


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
