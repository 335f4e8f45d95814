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

from shotc.language.compiler import CompiledScene
from shotc.run.errors import redact
from shotc.run.ledger_schema import Submission
from shotc.run.planner import Job, Plan
from shotc.run.selection import USD
from shotc.run.states import SUMMARY_ORDER, Outcome
from shotc.run.status_order import Marks
from shotc.run.untrusted import json_safe, shown

# A row of `status`: the submission, its clips on disk, its marks (version, the cut's take).
StatusEntry = tuple[Submission, list[str], Marks]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    # Each cell is one line: server text in it (failMsg, task ids) is escaped, not obeyed.
    cells = [[shown(str(c)) for c in headers]] + [[shown(str(c)) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return redact("\n".join(lines))


def credits(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def usd(value: float) -> str:
    """Dollars to the cent; a non-zero amount under a cent keeps its first digits."""
    if value == 0 or abs(value) >= 0.01:
        return f"${value:,.2f}"
    return f"${value:.2g}"


def money(value: float, usd_per_credit: float) -> str:
    """An estimate, always marked as one: `~90 credits (~$0.45)`."""
    return f"~{credits(value)} credits (~{usd(value * usd_per_credit)})"


def dumps(obj: Any) -> str:
    return json_safe(redact(json.dumps(obj, indent=2, ensure_ascii=False)))


def _dollars(value: float, usd_per_credit: float) -> float:
    return round(value * usd_per_credit, 6)


# -- plan -------------------------------------------------------------------------------------


def _plan_rows(plan: Plan) -> list[tuple[Job, str, CompiledScene | None]]:
    """(job, scene id, scene) per row: each scene of a job, or the job's one older version."""
    rows: list[tuple[Job, str, CompiledScene | None]] = []
    for job in plan.jobs:
        if job.orphan:
            rows.append((job, job.scene_id, None))
        rows += [(job, scene.scene_id, scene) for scene in job.scenes]
    return rows


def plan_json(plan: Plan, usd_per_credit: float) -> str:
    sending = {id(j) for j in plan.sending}
    scenes = []
    for job, scene_id, scene in _plan_rows(plan):
        scenes.append(
            {
                "film": job.film_title,
                "scene_id": scene_id,
                "title": scene.title if scene else None,
                "script": str(scene.script) if scene else job.script_name,
                "shots": scene.shots if scene else None,
                "seconds": job.seconds,
                "mode": job.mode,
                "sound": job.sound,
                "est_credits": job.est_credits,
                "est_usd": _dollars(job.est_credits, usd_per_credit),
                "state": job.plan_state,
                "will_send": id(job) in sending,
                "take": job.take,
                "key": job.key,
                "task_id": job.sub.task_id if job.sub else None,
                "older_version": job.orphan,
                "after": job.after,  # FIRST FRAME after: the source scene
                "held": job.held or None,
                "picked": (job.script_name, scene_id, job.take, job.mode) in plan.picked,
            }
        )
    return dumps(
        {
            "scenes": scenes,
            "to_send": len(plan.sending),
            "total_credits": plan.total,
            "total_usd": _dollars(plan.total, usd_per_credit),
            "usd_per_credit": usd_per_credit,
            "budget_credits": plan.budget_credits,
            "over_budget": plan.over_budget,
            "estimate": True,  # kie.ai publishes no prices: the table in shotc.toml is a guess
        }
    )


def _state_shown(plan: Plan, job: Job, scene_id: str) -> str:
    """The plan state, with `(picked)` on the take `shotc pick` chose for the cut."""
    picked = (job.script_name, scene_id, job.take, job.mode) in plan.picked
    return f"{job.plan_state} (picked)" if picked else str(job.plan_state)


def plan_table(plan: Plan, usd_per_credit: float) -> str:
    sending = {id(j) for j in plan.sending}
    rows = []
    for job, scene_id, scene in _plan_rows(plan):
        rows.append(
            [
                scene_id if scene else f"{scene_id} (older version)",
                job.take,
                scene.shots if scene else "-",
                job.seconds,
                job.mode,
                "on" if job.sound else "off",
                money(job.est_credits, usd_per_credit),
                _state_shown(plan, job, scene_id),
                "yes" if id(job) in sending else "no",
                job.held or (f"after {job.after}" if job.after else ""),
            ]
        )
    columns = ["scene", "take", "shots", "seconds", "mode", "sound", "est. cost", "state", "sends"]
    columns.append("after")
    if not any(job.after for job in plan.jobs):  # the column only when a scene comes after one
        columns, rows = columns[:-1], [row[:-1] for row in rows]
    head = table(columns, rows)
    return f"{head}\n\n{plan_verdict(plan, usd_per_credit)}"


def plan_verdict(plan: Plan, usd_per_credit: float) -> str:
    """The plan's last line: what the same `run` sends and spends, or why it refuses."""
    current = [j for j in plan.jobs if not j.orphan]
    wanted = sum(1 for j in current if j.will_send)
    cost = money(plan.total, usd_per_credit)
    if plan.over_budget:
        return f"run would refuse and send nothing: {over_budget(plan, usd_per_credit)}"
    return f"run would send {wanted} of {len(current)} take(s): {cost} (estimate)"


def over_budget(plan: Plan, usd_per_credit: float) -> str:
    """Why a run with this plan refuses to start: what it would cost against the budget."""
    wanted = sum(1 for j in plan.jobs if j.will_send)
    budget = plan.selection.budget
    assert budget is not None
    if budget.unit == USD:
        limit = f"{usd(budget.amount)} (~{credits(budget.credits(usd_per_credit))} credits)"
    else:
        limit = f"{credits(budget.amount)} credits (~{usd(budget.amount * usd_per_credit)})"
    cost = money(plan.total, usd_per_credit)
    return f"sending {wanted} take(s) would cost {cost}, over the budget of {limit}"


# -- run summary ------------------------------------------------------------------------------

NOW, BEFORE, MAYBE, UNPAID = "now", "before", "maybe", "-"


def paid(job: Job) -> str:
    """Whether this run paid for the job (`now`), an earlier one did (`before`), a createTask
    went unanswered so it may be paid (`maybe`), or nothing was paid (`-`)."""
    if job.created_now:
        return NOW
    if job.outcome == "unknown" or (job.sub is not None and job.sub.state == "unknown"):
        return MAYBE
    if job.sub is not None and job.sub.task_id:
        return BEFORE
    return UNPAID


def job_json(job: Job, usd_per_credit: float) -> dict[str, Any]:
    sub = job.sub
    return {
        "scene_id": job.scene_id,
        "scenes": [s.scene_id for s in job.scenes],
        "film": job.film_title,
        "take": job.take,
        "key": job.key,
        "outcome": job.outcome,
        "paid": paid(job),
        "state": sub.state if sub else None,
        "task_id": sub.task_id if sub else None,
        "paths": [str(p) for p in job.paths],
        "fail_code": sub.fail_code if sub else None,
        "fail_msg": sub.fail_msg if sub else None,
        "message": job.message,
        "est_credits": job.est_credits,
        "est_usd": _dollars(job.est_credits, usd_per_credit),
        "created": job.created_now,
        "older_version": job.orphan,
    }


def summary_counts(jobs: Sequence[Job]) -> tuple[Counter[Outcome], int, float]:
    counts = Counter(j.outcome for j in jobs if j.outcome is not None)
    created = [j for j in jobs if j.created_now]
    return counts, len(created), sum(j.est_credits for j in created)


def summary_json(jobs: Sequence[Job], usd_per_credit: float) -> str:
    counts, created, spent = summary_counts(jobs)
    before = [j for j in jobs if paid(j) == BEFORE]
    return dumps(
        {
            "scenes": [job_json(j, usd_per_credit) for j in jobs],
            "counts": dict(counts),
            "tasks_created": created,
            "est_credits_spent": spent,
            "est_usd_spent": _dollars(spent, usd_per_credit),
            "paid_before": len(before),
            "est_credits_paid_before": sum(j.est_credits for j in before),
            "usd_per_credit": usd_per_credit,
            "estimate": True,
        }
    )


def summary_table(jobs: Sequence[Job], usd_per_credit: float) -> str:
    rows = []
    for job in jobs:
        sub = job.sub
        rows.append(
            [
                job.label,
                job.take,
                job.outcome,
                paid(job),
                sub.task_id if sub and sub.task_id else "-",
                money(job.est_credits, usd_per_credit),
                job.message,
            ]
        )
    counts, _, _ = summary_counts(jobs)
    order = SUMMARY_ORDER
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    head = table(["scene", "take", "outcome", "paid", "task id", "est. cost", "detail"], rows)
    return f"{head}\n\n{', '.join(parts) or 'nothing to do'}\n{spent_line(jobs, usd_per_credit)}"


def spent_line(jobs: Sequence[Job], usd_per_credit: float) -> str:
    """What this run spent, apart from what was paid before it: `created 1 task, ~90 credits
    (~$0.45); 6 scenes already done (nothing spent now)`."""
    _, created, spent = summary_counts(jobs)
    if created:
        task = "task" if created == 1 else "tasks"
        line = f"created {created} {task}, {money(spent, usd_per_credit)}"
    else:
        line = "created no task, nothing spent now"
    before = [j for j in jobs if paid(j) == BEFORE]
    if before:
        # "scenes" as a writer counts them; "takes" once any is a further take of a scene.
        noun = "scene" if all(j.take == 1 for j in before) else "take"
        done = sum(1 for j in before if j.outcome in ("done", "cached"))
        rest = Counter(j.outcome or "queued" for j in before if j.outcome not in ("done", "cached"))
        bits = [f"{done} {noun}{'' if done == 1 else 's'} already done"] if done else []
        bits += [f"{n} paid before ({outcome})" for outcome, n in sorted(rest.items())]
        line += f"; {', '.join(bits)} ({'nothing spent now' if created else 'paid before'})"
    maybe = sum(1 for j in jobs if paid(j) == MAYBE)
    if maybe:
        line += f"; {maybe} unanswered createTask(s) may be paid (`unknown`)"
    return line + "; amounts are estimates"


# -- status -----------------------------------------------------------------------------------


def _when(sub: Submission) -> str:
    end = sub.finished_at or time.time()
    start = sub.submitted_at or sub.created_at
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(sub.created_at)) + (
        f" ({int(end - start)}s)"
    )


def status_json(entries: Sequence[StatusEntry], usd_per_credit: float) -> str:
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
                    "est_usd": _dollars(s.est_credits, usd_per_credit),
                    "created_at": s.created_at,
                    "finished_at": s.finished_at,
                    "result_urls": list(s.result_urls),
                    "fail_code": s.fail_code,
                    "fail_msg": s.fail_msg,
                    "error": s.error,
                    "downloads": paths,
                    "version": marks.version or None,
                    "cut": marks.cut or None,
                }
                for s, paths, marks in entries
            ],
            "usd_per_credit": usd_per_credit,
            "estimate": True,
        }
    )


def status_table(entries: Sequence[StatusEntry], usd_per_credit: float) -> str:
    marked = any(marks.version or marks.cut for _s, _p, marks in entries)
    rows = []
    for s, paths, marks in entries:
        if s.state == "fail":
            detail = f"failCode={s.fail_code} failMsg={s.fail_msg}"
        elif s.state == "success":
            detail = ", ".join(paths) if paths else "not downloaded yet: run `shotc run`"
        else:
            detail = s.error or ""
        cost = money(s.est_credits, usd_per_credit)
        # Marks only for scripts named on the command line (their script order is known).
        shown = [marks.version, marks.cut] if marked else []
        where = [s.script, s.scene_id, s.take, s.mode, *shown]
        rows.append([*where, s.state, s.task_id or "-", cost, _when(s), detail])
    if not rows:
        return "the ledger has no submissions"
    head = ["script", "scene", "take", "mode", *(["version", "cut"] if marked else [])]
    head += ["state", "task id", "est. cost", "created", "detail"]
    return table(head, rows)
