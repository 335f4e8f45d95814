"""Run stage: from compiled scenes and the ledger to jobs, each with what `run` would do.

Shared by `plan` (which only shows it) and `run` (which does it), so the plan's total is, by
construction, what `run` spends. Scenes with the same key and take share one job: the same
request is paid for once and its clip written under each scene's name.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shotc.language.compiler import CompiledScene
from shotc.run.config import Config, estimate_request
from shotc.run.downloads import clip_name
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

# What `plan` shows per scene.
NEW, CHANGED, DONE, RUNNING, FAILED = "new", "changed", "done", "running", "failed"
SHOW_UNKNOWN, SHOW_SENDING = "unknown", "sending"


@dataclass
class Job:
    """One (scene key, take) to bring to disk, and its progress through this run."""

    key: str
    take: int
    ledger_path: Path
    script_name: str  # as the ledger stores it
    scenes: list[CompiledScene]
    request: dict[str, Any] | None  # None for an older version only followed
    canonical: str
    targets: list[Path]
    mode: str
    sound: bool
    seconds: int
    est_credits: float
    plan_state: str
    will_send: bool
    sub: Submission | None = None
    orphan: bool = False
    # Each local medium's content digest as the key was computed from it: what gets uploaded.
    media: dict[Path, str] = field(default_factory=dict)
    # FIRST FRAME after: the source scene's id, and why the job waits or is blocked
    # (`shotc.run.continuity` fills both in)
    after: str | None = None
    held: str = ""
    # filled in by the orchestrator
    status: str = "queued"
    outcome: str = ""
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
        return f"{self.sub.scene_id if self.sub else '?'} (older version)"

    @property
    def scene_id(self) -> str:
        return self.scenes[0].scene_id if self.scenes else (self.sub.scene_id if self.sub else "")

    @property
    def film_title(self) -> str:
        if self.scenes:
            return self.scenes[0].film_title
        return self.sub.film_title if self.sub else ""


def apply_mode(request: dict[str, Any], mode: str | None) -> dict[str, Any]:
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
) -> tuple[str, bool]:
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


def open_ledgers(scripts: list[Path], *, create: bool) -> dict[Path, Ledger | None]:
    """The ledger beside each script; None where none exists and `create` is false (`plan`
    must not leave a `.shotc` directory behind)."""
    out: dict[Path, Ledger | None] = {}
    for script in scripts:
        path = ledger_path_for(script)
        if path not in out:
            out[path] = Ledger(path) if create or path.exists() else None
    return out


def _key_and_media(
    request: dict[str, Any], digest: DigestCache
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
        target = output_dir(scene.script, out_dir) / clip_name(scene.scene_id, number)
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
            crashed=crashed,
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

    `others` are the scripts' scenes that `--scene` left out: their current versions are
    not older ones either, just not part of this run."""
    current = {(j.ledger_path, j.key, j.take) for j in jobs}
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
    scripts_by_ledger: dict[Path, dict[str, Path]] = {}
    for job in jobs:
        for scene in job.scenes:
            scripts_by_ledger.setdefault(job.ledger_path, {})[job.script_name] = scene.script
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
            name = clip_name(f"{sub.scene_id}.{sub.scene_key[:8]}", sub.take)
            found.append(
                Job(
                    key=sub.scene_key,
                    take=sub.take,
                    ledger_path=lpath,
                    script_name=sub.script,
                    scenes=[],
                    request=None,
                    canonical=sub.request,
                    targets=[output_dir(names[sub.script], out_dir) / name],
                    mode=sub.mode,
                    sound=sub.sound,
                    seconds=sub.seconds,
                    est_credits=sub.est_credits,
                    plan_state=RUNNING if sub.running else DONE,
                    will_send=False,
                    sub=sub,
                    orphan=True,
                )
            )
    return found


def _rel(ledger_path: Path, script: Path) -> str:
    root = ledger_path.parent.parent
    try:
        return script.resolve().relative_to(root).as_posix()
    except ValueError:
        return script.resolve().as_posix()
