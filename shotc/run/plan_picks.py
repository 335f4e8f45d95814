"""Run stage: which rows of a plan are the cut's picked takes (film.md: a pick is "recorded in
the ledger; `status` and `plan` show it").

A pick names a scene, a version, a take and a mode; the plan's row of that scene and take in
that mode is marked when the pick is of the version the script holds now (a stale pick, made
for an older version, is ignored by the cut and so not shown here either). The version is the
job's own, from the canonical request the planner keyed it by (for a FIRST FRAME after
dependent, the one continuity re-keyed with its source's frame): nothing is digested again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Pick
from shotc.run.planner import Job
from shotc.run.scene_key import version_of_canonical

# (the script as the ledger names it, scene id, take, mode)
Picked = frozenset[tuple[str, str, int, str]]


def current_picks(jobs: Sequence[Job], ledgers: dict[Path, Ledger | None]) -> Picked:
    found: set[tuple[str, str, int, str]] = set()
    picks_of: dict[tuple[Path, str], dict[str, Pick]] = {}
    for job in jobs:
        ledger = ledgers.get(job.ledger_path)
        if ledger is None or job.orphan or not job.scenes:
            continue
        where = (job.ledger_path, job.script_name)
        if where not in picks_of:
            picks_of[where] = ledger.picks(job.script_name)
        version = version_of_canonical(job.canonical)
        for scene in job.scenes:
            pick = picks_of[where].get(scene.scene_id)
            if pick is None or (pick.take, pick.mode) != (job.take, job.mode):
                continue
            if pick.version == version:
                found.add((job.script_name, scene.scene_id, job.take, job.mode))
    return frozenset(found)
