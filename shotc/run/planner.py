"""Run stage: from compiled scenes and the ledger to jobs, each with what `run` would do.

`plan_run` is the one function both `plan` (which only shows it) and `run` (which does it)
call with the command line's `Selection`, so the plan's scenes, takes and total are, by
construction, what `run` sends and spends (and its budget verdict is run's). Scenes with
the same key and take share one job: the same request is paid for once and its clip written
under each scene's name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shotc.film.layout import Layout, older_path, take_path
from shotc.language.compiler import CompiledScene
from shotc.request.types import CreateTaskRequest
from shotc.run.config import Config, estimate_request
from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.ledger_schema import (
    ABANDONED,
    FAIL,
    NOT_SENT,
    RETRYING,
    SENDING,
    SUCCESS,
    UNKNOWN,
    Submission,
)
from shotc.run.scene_key import DigestCache, scene_key, version_of_canonical
from shotc.run.selection import Selection, select
from shotc.run.states import Outcome, PlanState

if TYPE_CHECKING:
    from shotc.run.continuity import Continuity

# What `plan` shows per scene.
NEW, CHANGED, DONE = PlanState.NEW, PlanState.CHANGED, PlanState.DONE
RUNNING, FAILED = PlanState.RUNNING, PlanState.FAILED
SHOW_UNKNOWN, SHOW_SENDING = PlanState.UNKNOWN, PlanState.SENDING


@dataclass
class Job:
    """One (scene key, take) to bring to disk, and its progress through this run."""

    key: str
    take: int
    ledger_path: Path
    script_name: str  # as the ledger stores it
    scenes: list[CompiledScene]
    request: CreateTaskRequest | None  # None for an older version only followed
    canonical: str
    targets: list[Path]
    mode: str
    sound: bool
    seconds: int
    est_credits: float
    plan_state: PlanState
    will_send: bool
    sub: Submission | None = None
    orphan: bool = False  # an older version of a scene, only followed
    other_take: bool = False  # another take of a current version (not this run's), followed
    # Each local medium's content digest as the key was computed from it: what gets uploaded.
    media: dict[Path, str] = field(default_factory=dict)
    # FIRST FRAME after: the source scene's id, and why the job waits or is blocked
    # (`shotc.run.continuity` fills both in)
    after: str | None = None
    held: str = ""
    # filled in by the orchestrator
    status: str = "queued"
    outcome: Outcome | None = None  # None until the job ends
    message: str = ""
    created_now: bool = False
    io_error: bool = False  # the failure was local (disk, ledger), not kie.ai's
    started: float = 0.0
    ended: float = 0.0
    paths: list[Path] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.scenes:
            return ",".join(dict.fromkeys(s.scene_id for s in self.scenes))
        scene_id = self.sub.scene_id if self.sub else "?"
        if self.other_take and self.sub is not None:
            return f"{scene_id} (take {self.sub.take})"
        return f"{scene_id} (older version)"

    @property
    def scene_id(self) -> str:
        return self.scenes[0].scene_id if self.scenes else (self.sub.scene_id if self.sub else "")

    @property
    def film_title(self) -> str:
        if self.scenes:
            return self.scenes[0].film_title
        return self.sub.film_title if self.sub else ""


def apply_mode(request: CreateTaskRequest, mode: str | None) -> CreateTaskRequest:
    if mode is None:
        return request
    out = copy.deepcopy(request)
    out.setdefault("input", {})["mode"] = mode
    return out


def render_dir_name(stem: str) -> str:
    """The render directory's name for a script stem: always one path component that stays
    inside `renders/`. A stem is a file name, so it holds no `/` or NUL; only `.` and `..`
    (from scripts named `..shot` and `...shot`) would point elsewhere: their dots become `_`.
    An empty stem cannot occur (`.shot` has the stem `.shot`) but would also be `_`."""
    return "_" * max(1, len(stem)) if stem.strip(".") == "" else stem


def output_dir(script: Path, out: Path | None) -> Path:
    if out is not None:
        return out.resolve()
    return script.resolve().parent / "renders" / render_dir_name(script.stem)


def classify(
    latest: Submission | None,
    history: list[Submission],
    key: str,
    *,
    resubmit_unknown: bool,
    crashed: bool = False,
    recovered: frozenset[int] = frozenset(),
) -> tuple[PlanState, bool]:
    """(state shown by `plan`, whether `run` sends it).

    `crashed`: no `run` holds the project, so a `sending` or `retrying` row is what a killed
    run left, shown as the next run will record it (`unknown`, or `not_sent`); `recovered`:
    submissions whose task id waits in the recovery file (the next run records it)."""
    if latest is not None and latest.id in recovered and latest.task_id is None:
        return RUNNING, False
    if crashed and latest is not None and latest.state == SENDING:
        return SHOW_UNKNOWN, resubmit_unknown
    if crashed and latest is not None and latest.state == RETRYING:
        changed = any(h.scene_key != key for h in history)
        return (CHANGED if changed else NEW), True
    if latest is None or latest.state in (NOT_SENT, ABANDONED):
        changed = any(h.scene_key != key for h in history)
        return (CHANGED if changed else NEW), True
    if latest.state == SUCCESS:
        return DONE, False
    if latest.running:
        return RUNNING, False
    if latest.state == FAIL:
        return FAILED, True
    if latest.state == UNKNOWN:
        return SHOW_UNKNOWN, resubmit_unknown
    if latest.state in (SENDING, RETRYING):
        return SHOW_SENDING, False
    return SHOW_UNKNOWN, False


def _key_and_media(
    request: Mapping[str, Any], digest: DigestCache
) -> tuple[str, str, dict[Path, str]]:
    """The scene key, its canonical JSON, and the digest of each local file as the key used
    it: the upload must send that very content, even if the file is edited meanwhile."""
    media: dict[Path, str] = {}

    def once(path: Path) -> str:
        if path not in media:
            media[path] = digest(path)
        return media[path]

    key, canonical = scene_key(request, once)
    return key, canonical, media


def scene_takes_wanted(scene: CompiledScene, take: int | None) -> list[tuple[CompiledScene, int]]:
    """The takes a run asks for: `--take K` alone, else 1 to the scene's `Takes: N`."""
    numbers = [take] if take is not None else list(range(1, scene.takes + 1))
    return [(scene, n) for n in numbers]


def plan_jobs(
    scenes: list[CompiledScene],
    ledgers: dict[Path, Ledger | None],
    config: Config,
    *,
    mode: str | None = None,
    take: int | None = None,
    resubmit_unknown: bool = False,
    out_dir: Path | None = None,
    digest: DigestCache | None = None,
    crashed: bool = False,
    recovered: frozenset[int] = frozenset(),
) -> list[Job]:
    """`take`: only that take of each scene (`--take K`); None: takes 1 to N of each scene
    (its `Takes: N`). `crashed` and `recovered`: see `classify` (for `plan`, which does not
    write the ledger; `run` records both before it plans)."""
    digest = digest or DigestCache()
    jobs: dict[tuple[Path, str, int], Job] = {}
    wanted = [pair for scene in scenes for pair in scene_takes_wanted(scene, take)]
    for scene, number in wanted:
        request = apply_mode(scene.request, mode)
        key, canonical, media = _key_and_media(request, digest)
        lpath = ledger_path_for(scene.script)
        ledger = ledgers.get(lpath)
        sent_mode = str(request.get("input", {}).get("mode", scene.mode))
        target = take_path(
            output_dir(scene.script, out_dir), scene.scene_id, number, sent_mode, scene.mode
        )
        existing = jobs.get((lpath, key, number))
        if existing is not None:
            existing.scenes.append(scene)
            if target not in existing.targets:
                existing.targets.append(target)
            continue
        script_name = ledger.script_name(scene.script) if ledger else _rel(lpath, scene.script)
        latest = ledger.latest(key, number) if ledger else None
        history = ledger.scene_history(script_name, scene.scene_id) if ledger else []
        # Only another version makes the scene `changed`: a draft or another take of this
        # content is not a change of the scene.
        version = version_of_canonical(canonical)
        history = [h for h in history if h.version != version]
        state, send = classify(
            latest,
            history,
            key,
            resubmit_unknown=resubmit_unknown,
            # Another machine's attempt on a shared ledger is not our crash's leftover.
            crashed=crashed and (latest is None or ledger is None or ledger.mine(latest.owner)),
            recovered=recovered,
        )
        m, sound, seconds, est = estimate_request(config, request)
        jobs[(lpath, key, number)] = Job(
            key=key,
            take=number,
            ledger_path=lpath,
            script_name=script_name,
            scenes=[scene],
            request=request,
            canonical=canonical,
            targets=[target],
            mode=m,
            sound=sound,
            seconds=seconds,
            est_credits=est,
            plan_state=state,
            will_send=send,
            sub=latest,
            media=media,
        )
    return list(jobs.values())


@dataclass(frozen=True, slots=True)
class Plan:
    """What a `run` with this selection would do: its jobs (the selected scenes', then the
    older versions it follows), the scenes `--scene` left out, and the budget's verdict."""

    jobs: list[Job]
    left_out: list[CompiledScene]
    selection: Selection
    budget_credits: float | None  # --budget in credits at the price table's rate
    continuity: Continuity | None = None  # FIRST FRAME after: the dependents, arranged
    # The cut's picks among the rows: (script as the ledger names it, scene id, take, mode)
    picked: frozenset[tuple[str, str, int, str]] = frozenset()

    @property
    def sending(self) -> list[Job]:
        """The jobs whose createTask `run` would POST (none when over budget)."""
        return [] if self.over_budget else [j for j in self.jobs if j.will_send]

    @property
    def total(self) -> float:
        """Estimated credits of what would be sent, were the budget not in the way."""
        return sum(j.est_credits for j in self.jobs if j.will_send)

    @property
    def over_budget(self) -> bool:
        return self.budget_credits is not None and self.total > self.budget_credits


def plan_run(
    compiled: list[CompiledScene],
    ledgers: dict[Path, Ledger | None],
    config: Config,
    selection: Selection,
    *,
    out_dir: Path | None = None,
    digest: DigestCache | None = None,
    crashed: bool = False,
    recovered: frozenset[int] = frozenset(),
) -> Plan:
    """The run a command line asks for: `--scene` (id or title), then every job with its
    state, then the older versions to follow. Raises SceneNotFound for a `--scene` that
    names nothing. `crashed`, `recovered`: see `classify`."""
    digest = digest or DigestCache()
    scenes = select(compiled, selection.scenes)
    chosen = {id(s) for s in scenes}
    left_out = [s for s in compiled if id(s) not in chosen]
    jobs = plan_jobs(
        scenes,
        ledgers,
        config,
        mode=selection.mode,
        take=selection.take,
        resubmit_unknown=selection.resubmit_unknown,
        out_dir=out_dir,
        digest=digest,
        crashed=crashed,
        recovered=recovered,
    )
    jobs += orphan_jobs(
        jobs,
        ledgers,
        out_dir,
        others=left_out,
        mode=selection.mode,
        take=selection.take,
        digest=digest,
    )
    # FIRST FRAME after changes its dependents' state, key and price: before the budget.
    from shotc.run import continuity  # it builds on this module

    after = continuity.arrange(
        jobs,
        compiled,
        ledgers,
        digest=digest,
        out_dir=out_dir,
        mode=selection.mode,
        resubmit_unknown=selection.resubmit_unknown,
    )
    from shotc.run.plan_picks import current_picks

    budget = selection.budget
    limit = budget.credits(config.usd_per_credit) if budget is not None else None
    return Plan(jobs, left_out, selection, limit, after, current_picks(jobs, ledgers))


def orphan_jobs(
    jobs: list[Job],
    ledgers: dict[Path, Ledger | None],
    out_dir: Path | None,
    *,
    others: Sequence[CompiledScene] = (),
    mode: str | None = None,
    take: int | None = None,
    digest: DigestCache | None = None,
) -> list[Job]:
    """Older versions of these scripts' scenes still running, or finished and never
    downloaded: paid for, so `run` follows and fetches them too, beside the current clip.
    Another take of a current version (take 1 still running during `run --take 2`) is
    followed the same way, but under its own take's name: it is not an older version.

    `others` are the scripts' scenes that `--scene` left out: their current versions are
    not older ones either, just not part of this run."""
    current = {(j.ledger_path, j.key, j.take) for j in jobs}
    current_versions = {(j.ledger_path, j.key) for j in jobs if j.scenes}
    unkeyed: set[tuple[Path, str, str]] = set()
    for scene in others:
        lpath = ledger_path_for(scene.script)
        try:
            key = _key_and_media(apply_mode(scene.request, mode), digest or DigestCache())[0]
        except LocalIOError:
            # Its media cannot be read now, so which submission is its current version cannot
            # be told: none of its is called an older version (a full run sorts them out).
            ledger = ledgers.get(lpath)
            name = ledger.script_name(scene.script) if ledger else _rel(lpath, scene.script)
            unkeyed.add((lpath, name, scene.scene_id))
            continue
        current.update((lpath, key, n) for _s, n in scene_takes_wanted(scene, take))
        current_versions.add((lpath, key))
    scripts_by_ledger: dict[Path, dict[str, Path]] = {}
    by_script: dict[Path, list[CompiledScene]] = {}
    for job in jobs:
        for scene in job.scenes:
            scripts_by_ledger.setdefault(job.ledger_path, {})[job.script_name] = scene.script
            by_script.setdefault(scene.script, []).append(scene)
    for scene in others:
        by_script.setdefault(scene.script, []).append(scene)
    layouts = {
        script: Layout.of(
            output_dir(script, out_dir),
            {s.scene_id: s for s in found}.values(),  # a scene is in one job per take
            digest or DigestCache(),
        )
        for script, found in by_script.items()
    }
    found: list[Job] = []
    for lpath, names in scripts_by_ledger.items():
        ledger = ledgers.get(lpath)
        if ledger is None:
            continue
        for sub in ledger.all_latest(list(names)):
            if (lpath, sub.scene_key, sub.take) in current:
                continue
            if (lpath, sub.script, sub.scene_id) in unkeyed:
                continue
            if not (sub.running or (sub.state == SUCCESS and not ledger.downloads(sub.id))):
                continue
            other_take = (lpath, sub.scene_key) in current_versions
            script = names[sub.script]
            homes = layouts[script].homes(sub) or [
                older_path(
                    output_dir(script, out_dir),
                    sub.scene_id,
                    sub.version or sub.scene_key,
                    sub.take,
                    sub.mode,
                )
            ]
            found.append(
                Job(
                    key=sub.scene_key,
                    take=sub.take,
                    ledger_path=lpath,
                    script_name=sub.script,
                    scenes=[],
                    request=None,
                    canonical=sub.request,
                    targets=homes,
                    mode=sub.mode,
                    sound=sub.sound,
                    seconds=sub.seconds,
                    est_credits=sub.est_credits,
                    plan_state=RUNNING if sub.running else DONE,
                    will_send=False,
                    sub=sub,
                    orphan=not other_take,
                    other_take=other_take,
                )
            )
    return found


def _rel(ledger_path: Path, script: Path) -> str:
    root = ledger_path.parent.parent
    try:
        return script.resolve().relative_to(root).as_posix()
    except ValueError:
        return script.resolve().as_posix()
