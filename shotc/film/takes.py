"""The film stage's view of a project's takes: what the ledger holds for each scene of a compiled
script, which take the cut uses, and the picks (film.md "Words", "Commands").

API (used by `shotc status`, `shotc pick`, `shotc cut`, `shotc review` and `shotc prune`):

    from shotc.film.takes import scene_takes, the_cut, record_pick, PickError
    scenes = compile_paths([script]).scenes          # one script's compiled scenes
    with Ledger(ledger_path_for(script)) as ledger:  # or ledger=None: nothing run yet
        for st in scene_takes(scenes, ledger):       # script order
            st.scene_id, st.title, st.mode, st.version, st.state, st.pick  # PickInfo | None
            for t in st.takes:   # current version's own-mode takes, its drafts, older versions
                t.take, t.mode, t.task_id, t.state, t.path, t.draft, t.current
        entries = the_cut(scenes, ledger, drafts=False)   # list[shotc.film.cut.CutEntry]
        record_pick(scenes, ledger, "Dawn on the cliff", 2)  # or the id; mode: the scene's own

- A take is one (version, mode, take number): the latest ledger attempt at it. `state` is what
  `plan` would say of it: `done`, `running`, `failed`, `unknown`, `sending`, `not sent`,
  `abandoned`; `reason` says why a take failed or was not sent. `path` is its clip when that
  file is on disk as the ledger recorded it (size checked), else None.
- The **version** of a scene is its content: its scene key without the mode
  (`shotc.run.scene_key.version_key`); a **draft** is a take of the current version in another
  mode than the scene's own; takes of other versions ever sent under the scene's id are older
  (`current` False). A scene renamed without other change keeps its takes: they are found by
  version, whatever id they were sent under.
- **The cut** (`the_cut`): per scene, the picked take of its current version; else the first
  finished take (lowest number) of its current version in its own mode; else, with
  `drafts=True`, the first finished draft; else missing (`CutEntry.path` None) with its state.
  A pick whose take has no clip on disk (still running, failed since) makes the scene missing
  rather than silently using another take: the writer chose that one. A stale pick (made for
  an older version) is ignored by the cut and reported (`PickInfo.stale`).
- `record_pick` raises `PickError` (exit code 2, a usage error) for an unknown scene (with a
  did-you-mean among titles and ids), an unknown take, or a take that cannot be in a cut
  (failed, never sent). The review server's `Pick` callback is
  `lambda scene_id, take, mode: record_pick(scenes, ledger, scene_id, take, mode)` with
  `PickError` turned into its `PickRefused`.

The media of the scenes are read (their digests make the version key): a file that cannot be
read raises `shotc.run.errors.LocalIOError` (exit 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shotc.exits import ExitCode
from shotc.film.cut import CutEntry
from shotc.language.checks import slugify
from shotc.language.compiler import CompiledScene
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import (
    ABANDONED,
    FAIL,
    NOT_SENT,
    RETRYING,
    RUNNING,
    SENDING,
    SUCCESS,
    UNKNOWN,
    Pick,
    Submission,
)
from shotc.run.scene_key import DigestCache, version_key
from shotc.suggest import did_you_mean

DONE = "done"
_SHOWN: dict[str, str] = {
    SUCCESS: DONE,
    FAIL: "failed",
    UNKNOWN: "unknown",
    SENDING: "sending",
    RETRYING: "sending",
    NOT_SENT: "not sent",
    ABANDONED: "abandoned",
}


class PickError(Exception):
    """A pick that cannot be recorded (unknown scene or take); the message says why."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class Take:
    """One take of a scene, as the ledger knows it."""

    take: int
    mode: str
    task_id: str | None
    state: str  # done, running, failed, unknown, sending, not sent, abandoned
    path: Path | None  # the clip, when it is on disk
    draft: bool  # a take of the current version in another mode than the scene's own
    current: bool  # a take of the scene's current version
    version: str
    scene_key: str
    submission_id: int
    sent_as: str  # the scene id it was sent under
    reason: str | None = None  # why it failed or was not sent

    @property
    def finished(self) -> bool:
        """Done and on disk: it can be in a cut."""
        return self.state == DONE and self.path is not None


@dataclass(frozen=True, slots=True)
class PickInfo:
    take: int
    mode: str
    version: str
    stale: bool  # made for a version that is no longer current: the cut ignores it
    picked_at: float


@dataclass(frozen=True, slots=True)
class SceneTakes:
    """A scene of the script with every take the ledger holds for it."""

    scene: CompiledScene
    script: str  # the script as the ledger names it
    version: str  # the current version key
    key: str  # the current scene key in the scene's own mode
    takes: tuple[Take, ...]  # own-mode takes by number, then drafts, then older versions
    pick: PickInfo | None

    @property
    def scene_id(self) -> str:
        return self.scene.scene_id

    @property
    def title(self) -> str:
        return self.scene.title or self.scene.scene_id

    @property
    def mode(self) -> str:
        """The scene's own mode (its script's, scene settings included)."""
        return self.scene.mode

    @property
    def current(self) -> tuple[Take, ...]:
        return tuple(t for t in self.takes if t.current)

    @property
    def own(self) -> tuple[Take, ...]:
        """The current version's takes in the scene's own mode, by number."""
        return tuple(t for t in self.takes if t.current and not t.draft)

    @property
    def drafts(self) -> tuple[Take, ...]:
        return tuple(t for t in self.takes if t.current and t.draft)

    @property
    def older(self) -> tuple[Take, ...]:
        return tuple(t for t in self.takes if not t.current)

    def find(self, take: int, mode: str | None = None) -> Take | None:
        """The current version's take `take` in `mode` (default: the scene's own)."""
        want = mode or self.mode
        return next((t for t in self.current if t.take == take and t.mode == want), None)

    @property
    def state(self) -> str:
        """Where the scene stands in its own mode: done, running, failed, unknown, sending,
        not sent, changed (only older versions were made), new."""
        own = self.own
        for state in (DONE, "running", "sending", "unknown", "failed", "not sent"):
            if any(t.state == state for t in own):
                return state
        return "changed" if self.older else "new"

    def chosen(self, drafts: bool = False) -> Take | None:
        """The take the cut uses (None: missing), per film.md "the cut"."""
        if self.pick is not None and not self.pick.stale:
            picked = self.find(self.pick.take, self.pick.mode)
            return picked if picked is not None and picked.finished else None
        for take in self.own:
            if take.finished:
                return take
        if drafts:
            for take in self.drafts:
                if take.finished:
                    return take
        return None

    def missing_state(self, drafts: bool = False) -> str:
        """Why the cut has no clip for this scene (`CutEntry.state`)."""
        if self.pick is not None and not self.pick.stale:
            picked = self.find(self.pick.take, self.pick.mode)
            what = picked.state if picked is not None else "not in the ledger"
            if picked is not None and picked.state == DONE:
                what = "done, clip not on disk (run again to fetch it)"
            return f"picked take {self.pick.take} ({self.pick.mode}): {what}"
        own = self.own
        done = [t for t in own if t.state == DONE]
        if done:
            return "done, clip not on disk (run again to fetch it)"
        failed = next((t for t in own if t.state == "failed"), None)
        state = self.state
        if state == "failed" and failed is not None and failed.reason:
            state = f"failed: {failed.reason}"
        if not drafts and any(t.finished for t in self.drafts):
            state += " (a draft exists: --drafts)"
        return state


def _state(sub: Submission) -> str:
    return "running" if sub.state in RUNNING else _SHOWN.get(sub.state, sub.state)


def _reason(sub: Submission) -> str | None:
    if sub.state == FAIL:
        parts = [p for p in (sub.fail_code, sub.fail_msg) if p]
        return ": ".join(parts) if parts else sub.error
    return sub.error if sub.state in (NOT_SENT, UNKNOWN, ABANDONED) else None


def clip_on_disk(ledger: Ledger, sub: Submission, scene_id: str) -> Path | None:
    """The clip of `sub` on disk as the ledger recorded it (same size), preferring a file
    named for `scene_id` (the same request may be filed under several scenes)."""
    found: list[Path] = []
    for rec in ledger.downloads(sub.id):
        path = Path(rec.path)
        try:
            if path.stat().st_size == rec.size:
                found.append(path)
        except OSError:
            continue
    mine = [
        p for p in found if scene_id in p.parent.parts[-2:] or p.name.startswith(f"{scene_id}.")
    ]
    chosen = mine or found
    return sorted(chosen)[0] if chosen else None


def _take(ledger: Ledger, sub: Submission, scene: CompiledScene, version: str) -> Take:
    current = sub.version == version
    return Take(
        take=sub.take,
        mode=sub.mode,
        task_id=sub.task_id,
        state=_state(sub),
        path=clip_on_disk(ledger, sub, scene.scene_id),
        draft=current and sub.mode != scene.mode,
        current=current,
        version=sub.version or "",
        scene_key=sub.scene_key,
        submission_id=sub.id,
        sent_as=sub.scene_id,
        reason=_reason(sub),
    )


def _order(take: Take) -> tuple[int, int, str, int]:
    group = 0 if take.current and not take.draft else 1 if take.current else 2
    # older versions: the most recent first, that is what a writer looks back at
    return (group, -take.submission_id if group == 2 else take.take, take.mode, take.take)


def scene_takes(
    scenes: Sequence[CompiledScene],
    ledger: Ledger | None,
    *,
    digest: DigestCache | None = None,
) -> list[SceneTakes]:
    """Each scene (in the order given: script order) with its takes, version and pick."""
    from shotc.run.continuity import as_sent
    from shotc.run.scene_key import scene_key

    digest = digest or DigestCache()
    # a dependent's version is that of the frame it was sent with (FIRST FRAME after)
    requests, digest = as_sent(scenes, ledger, digest)
    out: list[SceneTakes] = []
    picks_by_script: dict[str, dict[str, Pick]] = {}
    ids_by_script: dict[str, set[str]] = {}
    names = {s.script: ledger.script_name(s.script) for s in scenes} if ledger else {}
    for scene in scenes:
        if ledger is not None:
            ids_by_script.setdefault(names[scene.script], set()).add(scene.scene_id)
    for scene, request in zip(scenes, requests, strict=True):
        version = version_key(request, digest)
        key = scene_key(request, digest)[0]
        if ledger is None:
            out.append(SceneTakes(scene, "", version, key, (), None))
            continue
        script = names[scene.script]
        subs = {s.id: s for s in ledger.version_history(script, [version])}
        for sub in ledger.scene_latest(script, [scene.scene_id]):
            subs.setdefault(sub.id, sub)
        # an older version sent under this id but also a current take elsewhere stays current
        takes = sorted((_take(ledger, s, scene, version) for s in subs.values()), key=_order)
        if script not in picks_by_script:
            picks_by_script[script] = ledger.picks(script)
        picks = picks_by_script[script]
        pick = picks.get(scene.scene_id)
        if pick is None:
            # a renamed scene: a pick of this very version under an id the script lost
            lost = [p for sid, p in picks.items() if sid not in ids_by_script[script]]
            pick = next((p for p in lost if p.version == version), None)
        info = (
            PickInfo(pick.take, pick.mode, pick.version, pick.version != version, pick.picked_at)
            if pick is not None
            else None
        )
        out.append(SceneTakes(scene, script, version, key, tuple(takes), info))
    return out


def prompt_of(request: Mapping[str, Any]) -> str:
    """The compiled prompt of a request (a multi-shot scene's shots joined by ` | `)."""
    body = request.get("input") or {}
    if isinstance(body.get("prompt"), str):
        return str(body["prompt"])
    shots = body.get("multi_prompt") or []
    return " | ".join(str(s.get("prompt", "")) for s in shots if isinstance(s, dict))


def cut_entries(takes: Sequence[SceneTakes], *, drafts: bool = False) -> list[CutEntry]:
    """`the_cut` from takes already gathered by `scene_takes`."""
    entries: list[CutEntry] = []
    for st in takes:
        chosen = st.chosen(drafts)
        common: dict[str, Any] = {
            "scene_id": st.scene_id,
            "title": st.title,
            "seconds": float(st.scene.seconds),
            "prompt": prompt_of(st.scene.request),
        }
        if chosen is None:
            entries.append(CutEntry(path=None, state=st.missing_state(drafts), **common))
        else:
            entries.append(
                CutEntry(
                    path=chosen.path,
                    take=chosen.take,
                    mode=chosen.mode,
                    task_id=chosen.task_id,
                    state=chosen.state,
                    draft=chosen.draft,
                    **common,
                )
            )
    return entries


def the_cut(
    scenes: Sequence[CompiledScene],
    ledger: Ledger | None,
    *,
    drafts: bool = False,
    digest: DigestCache | None = None,
) -> list[CutEntry]:
    """One `CutEntry` per scene in script order (film.md "the cut")."""
    return cut_entries(scene_takes(scenes, ledger, digest=digest), drafts=drafts)


def find_scene(scenes: Sequence[CompiledScene], name: str) -> CompiledScene:
    """The scene called `name`: its id, its title (any case), or a title that slugifies to
    `name`'s slug. Raises PickError with a did-you-mean."""
    for scene in scenes:
        if scene.scene_id == name:
            return scene
    folded = name.casefold().strip()
    for scene in scenes:
        if scene.title and scene.title.casefold().strip() == folded:
            return scene
    slug = slugify(name, 0)
    for scene in scenes:
        if slug and scene.scene_id == slug:
            return scene
    if not scenes:
        raise PickError("this script has no scenes")
    candidates = [s.scene_id for s in scenes] + [s.title for s in scenes if s.title]
    guess = did_you_mean(name, candidates, fold_case=True)
    hint = (
        f"did you mean `{guess}`?"
        if guess
        else "scenes: " + ", ".join(s.scene_id for s in scenes[:12])
    )
    raise PickError(f"no scene `{name}` in this script; {hint}")


def record_pick(
    scenes: Sequence[CompiledScene],
    ledger: Ledger | None,
    scene: str,
    take: int,
    mode: str | None = None,
    *,
    digest: DigestCache | None = None,
) -> SceneTakes:
    """Make the cut use take `take` (in `mode`, default the scene's own) of `scene`'s current
    version (`scene`: its id or title); the scene as it stands after the pick."""
    target = find_scene(scenes, scene)
    if ledger is None:
        raise PickError(f"scene {target.scene_id} has no takes yet (nothing has been run)")
    st = scene_takes([target], ledger, digest=digest)[0]
    want = mode or st.mode
    found = st.find(take, want)
    if found is None:
        have = ", ".join(f"{t.take} ({t.mode})" for t in st.current) or "none yet"
        raise PickError(
            f"scene {target.scene_id} has no take {take} in {want} of its current version "
            f"(takes: {have})"
        )
    if found.state not in (DONE, "running", "sending"):
        raise PickError(
            f"scene {target.scene_id} take {take} ({want}) is {found.state}: it has no clip "
            "to put in the cut"
        )
    ledger.record_pick(st.script, target.scene_id, st.version, take, want)
    return scene_takes([target], ledger, digest=digest)[0]


__all__ = [
    "PickError",
    "PickInfo",
    "SceneTakes",
    "Take",
    "clip_on_disk",
    "cut_entries",
    "find_scene",
    "prompt_of",
    "record_pick",
    "scene_takes",
    "the_cut",
]
