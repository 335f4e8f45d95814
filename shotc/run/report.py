"""Run stage: what `plan`, `run` and `status` print on stdout, as tables or JSON.

Tables are for people (aligned columns, a total line); `--json` gives one JSON document with
the same facts for machines. Every string passes through `redact` on its way out, and through
`shotc.run.untrusted` (control characters escaped).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from shotc.run.errors import redact
from shotc.run.ledger_schema import Submission
from shotc.run.planner import Job
from shotc.run.untrusted import json_safe, shown


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    # Each cell is one line: server text in it (failMsg, task ids) is escaped, not obeyed.
    cells = [[shown(str(c)) for c in headers]] + [[shown(str(c)) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return redact("\n".join(lines))


def credits(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def dumps(obj: Any) -> str:
    return json_safe(redact(json.dumps(obj, indent=2, ensure_ascii=False)))


# -- plan -------------------------------------------------------------------------------------


def plan_total(jobs: Sequence[Job]) -> float:
    return sum(j.est_credits for j in jobs if j.will_send)


def plan_json(jobs: Sequence[Job]) -> str:
    scenes = []
    for job in jobs:
        for scene in job.scenes:
            scenes.append(
                {
                    "film": scene.film_title,
                    "scene_id": scene.scene_id,
                    "script": str(scene.script),
                    "shots": scene.shots,
                    "seconds": job.seconds,
                    "mode": job.mode,
                    "sound": job.sound,
                    "est_credits": job.est_credits,
                    "state": job.plan_state,
                    "after": job.after,  # FIRST FRAME after: the source scene
                    "held": job.held or None,
                    "will_send": job.will_send,
                    "take": job.take,
                    "key": job.key,
                    "task_id": job.sub.task_id if job.sub else None,
                }
            )
    return dumps(
        {
            "scenes": scenes,
            "to_send": sum(1 for j in jobs if j.will_send),
            "total_credits": plan_total(jobs),
        }
    )


def plan_table(jobs: Sequence[Job]) -> str:
    rows = []
    for job in jobs:
        for scene in job.scenes:
            rows.append(
                [
                    scene.scene_id,
                    job.take,
                    scene.shots,
                    job.seconds,
                    job.mode,
                    "on" if job.sound else "off",
                    credits(job.est_credits),
                    job.plan_state,
                    job.held or (f"after {job.after}" if job.after else ""),
                ]
            )
    columns = ["scene", "take", "shots", "seconds", "mode", "sound", "est. credits", "state"]
    columns.append("after")
    if not any(job.after for job in jobs):  # the column only when a scene comes after another
        columns, rows = columns[:-1], [row[:-1] for row in rows]
    head = table(columns, rows)
    sending = sum(1 for j in jobs if j.will_send)
    return (
        f"{head}\n\nrun would send {sending} of {len(jobs)} take(s): "
        f"~{credits(plan_total(jobs))} credits"
    )


# -- run summary ------------------------------------------------------------------------------


def job_json(job: Job) -> dict[str, Any]:
    sub = job.sub
    return {
        "scene_id": job.scene_id,
        "scenes": [s.scene_id for s in job.scenes],
        "film": job.film_title,
        "take": job.take,
        "key": job.key,
        "outcome": job.outcome,
        "state": sub.state if sub else None,
        "task_id": sub.task_id if sub else None,
        "paths": [str(p) for p in job.paths],
        "fail_code": sub.fail_code if sub else None,
        "fail_msg": sub.fail_msg if sub else None,
        "message": job.message,
        "est_credits": job.est_credits,
        "created": job.created_now,
        "older_version": job.orphan,
    }


def summary_counts(jobs: Sequence[Job]) -> tuple[Counter[str], int, float]:
    counts = Counter(j.outcome for j in jobs)
    created = [j for j in jobs if j.created_now]
    return counts, len(created), sum(j.est_credits for j in created)


def summary_json(jobs: Sequence[Job]) -> str:
    counts, created, spent = summary_counts(jobs)
    return dumps(
        {
            "scenes": [job_json(j) for j in jobs],
            "counts": dict(counts),
            "tasks_created": created,
            "est_credits_spent": spent,
        }
    )


def summary_table(jobs: Sequence[Job]) -> str:
    rows = []
    for job in jobs:
        sub = job.sub
        rows.append(
            [
                job.label,
                job.outcome,
                sub.task_id if sub and sub.task_id else "-",
                credits(job.est_credits),
                job.message,
            ]
        )
    counts, created, spent = summary_counts(jobs)
    order = ["done", "cached", "failed", "refused", "unknown", "running", "not sent", "error"]
    order += ["waiting", "blocked"]  # FIRST FRAME after (shotc.run.continuity)
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    return (
        table(["scene", "outcome", "task id", "credits", "detail"], rows)
        + f"\n\n{', '.join(parts) or 'nothing to do'}; {created} task(s) created, "
        f"~{credits(spent)} credits (estimate)"
    )


# -- status -----------------------------------------------------------------------------------


def _when(sub: Submission) -> str:
    end = sub.finished_at or time.time()
    start = sub.submitted_at or sub.created_at
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(sub.created_at)) + (
        f" ({int(end - start)}s)"
    )


def status_json(entries: Sequence[tuple[Submission, list[str]]]) -> str:
    return dumps(
        {
            "submissions": [
                {
                    "script": s.script,
                    "scene_id": s.scene_id,
                    "take": s.take,
                    "state": s.state,
                    "task_id": s.task_id,
                    "key": s.scene_key,
                    "mode": s.mode,
                    "seconds": s.seconds,
                    "est_credits": s.est_credits,
                    "created_at": s.created_at,
                    "finished_at": s.finished_at,
                    "result_urls": list(s.result_urls),
                    "fail_code": s.fail_code,
                    "fail_msg": s.fail_msg,
                    "error": s.error,
                    "downloads": paths,
                }
                for s, paths in entries
            ]
        }
    )


def status_table(entries: Sequence[tuple[Submission, list[str]]]) -> str:
    rows = []
    for s, paths in entries:
        if s.state == "fail":
            detail = f"failCode={s.fail_code} failMsg={s.fail_msg}"
        elif s.state == "success":
            detail = ", ".join(paths) if paths else "not downloaded yet: run `shotc run`"
        else:
            detail = s.error or ""
        rows.append([s.script, s.scene_id, s.take, s.state, s.task_id or "-", _when(s), detail])
    if not rows:
        return "the ledger has no submissions"
    return table(["script", "scene", "take", "state", "task id", "created", "detail"], rows)
