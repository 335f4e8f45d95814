"""Run stage: continuity between scenes (language-1.1 §4, film.md "Continuity at run time").

A scene written `FIRST FRAME after X` compiles to the placeholder `shotc://after/x`. Here that
placeholder becomes a local image: the last frame of the clip the cut uses for X (its picked
take, else its first finished take, `shotc.film.takes.the_cut`), written as
`<render dir>/<x>/last-frame.png`, recorded in the ledger, then uploaded like any local image.
So the dependent scene's key holds the PNG's digest: a new take or another pick of X gives a
new frame, a new key, and the dependent is `changed`, and its own dependents after it.

`arrange` (plan time, for `plan` and for `run` before it sends anything) decides each
dependent job's state without writing anything: ready (its key computed from the frame,
extracted in memory when it is not on disk yet, then `done`, `new`, `changed`... as usual),
`waiting` (X is still to be made or fetched in this run; `changed` when the dependent was made
before), or `blocked` (X failed, or nothing in this run will give it a clip; `held` says why).

`Continuity.ready` (run time, in the dependent's worker, before anything is uploaded) waits
until every job of X in this run has ended, then extracts the frame, writes it, records it in
the ledger and only then lets the job go on: a crash between the record and the upload finds
the same frame, the same key, and pays nothing twice. A source that ended without a clip
leaves its dependents `blocked`, with the cause, and nothing is sent for them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shotc.language.compiler import CompiledScene
from shotc.language.media import file_uri
from shotc.request.placeholder import after_url, source_of_request
from shotc.request.types import CreateTaskRequest, RequestInput
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.planner import CHANGED, DONE, FAILED, Job, apply_mode, classify, output_dir
from shotc.run.scene_key import DigestCache, file_uri_path, scene_key, version_of_canonical
from shotc.run.states import Outcome, PlanState

LAST_FRAME = "last-frame.png"
WAITING, BLOCKED = PlanState.WAITING, PlanState.BLOCKED  # and Outcome's members of these names
# the outcomes a source job can end with and still leave a clip in the cut
_MADE = frozenset({"done", "cached"})


class FrameDigests(DigestCache):
    """A DigestCache that also knows the digest of each last frame decided in this process,
    whether or not its PNG is on disk yet (`plan` computes it in memory, writing nothing)."""

    def __init__(self, base: DigestCache) -> None:
        super().__init__()
        self._base = base
        self.frames: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        known = self.frames.get(path)
        return known if known is not None else self._base(path)


def _order(scenes: Sequence[CompiledScene]) -> list[CompiledScene]:
    """The scenes, each after the scene its first frame comes after (the compiler has
    refused cycles, E211)."""
    by_id = {s.scene_id: s for s in scenes}
    done: dict[str, None] = {}
    for scene in scenes:
        chain: list[str] = []
        node: str | None = scene.scene_id
        while node is not None and node in by_id and node not in done and node not in chain:
            chain.append(node)
            node = source_of_request(by_id[node].request)
        for scene_id in reversed(chain):
            done[scene_id] = None
    return [by_id[i] for i in done]


class Continuity:
    def __init__(
        self,
        jobs: Sequence[Job],
        scenes: Sequence[CompiledScene],
        ledgers: dict[Path, Ledger | None],
        *,
        digest: DigestCache,
        out_dir: Path | None = None,
        mode: str | None = None,
        resubmit_unknown: bool = False,
    ) -> None:
        self.jobs = list(jobs)
        self.scenes = {s.scene_id: s for s in scenes}
        self.order = _order(scenes)
        self.ledgers = ledgers
        self.digests = FrameDigests(digest)
        self.out_dir = out_dir
        self.mode = mode
        self.resubmit_unknown = resubmit_unknown
        self.jobs_of: dict[str, list[Job]] = {}
        for job in self.jobs:
            if not job.orphan:
                for scene in job.scenes:
                    self.jobs_of.setdefault(scene.scene_id, []).append(job)
        # each scene's request as its takes were sent: placeholders filled in (the_cut finds a
        # dependent's takes by this request's version)
        self.bound: dict[str, CreateTaskRequest] = {s.scene_id: s.request for s in scenes}
        self._ended = threading.Condition()
        self._locks: dict[str, threading.Lock] = {}

    @property
    def dependents(self) -> list[Job]:
        return [j for j in self.jobs if j.after is not None]

    # -- plan time --------------------------------------------------------------------------

    def arrange(self) -> None:
        """Each dependent job's state, key and price, in dependency order; writes nothing."""
        for scene in self.order:
            source = source_of_request(scene.request)
            if source is None:
                continue
            jobs = self.jobs_of.get(scene.scene_id, [])
            for job in jobs:
                job.after = source
            held = self._held(source)
            if held is None:
                found = self._frame(source, write=False)
                fetched = any(j.plan_state == DONE for j in self.jobs_of.get(source, []))
                if isinstance(found, str) and fetched:
                    held = (WAITING, True, "its clip is fetched first")  # done, not on disk
                elif isinstance(found, str):
                    held = (BLOCKED, False, found)
                else:
                    self._bind(scene, jobs, found)
                    continue
            state, send, why = held
            for job in jobs:
                history = self._history(job)
                pending = state == WAITING and any(h.scene_key != job.key for h in history)
                job.plan_state = CHANGED if pending else state
                job.will_send = send
                job.held = f"after {source}: {why}"

    def _held(self, source: str) -> tuple[PlanState, bool, str] | None:
        """(state, whether run sends the dependent, why) while the source's clip is not
        settled in this run; None when it is (the cut decides)."""
        jobs = self.jobs_of.get(source, [])
        coming = any(j.will_send or (j.sub is not None and j.sub.unsettled) for j in jobs)
        failed = [j for j in jobs if j.plan_state in (FAILED, BLOCKED)]
        if failed:
            if failed[0].after is not None:  # blocked in turn: the cause is on its own row
                return BLOCKED, coming, "it is blocked"
            again = f"; run sends {source} again first" if coming else ""
            return BLOCKED, coming, f"{_failure(failed[0])}{again}"
        if coming:
            return WAITING, True, "its clip is not made yet"
        return None

    def _history(self, job: Job) -> list[Any]:
        ledger = self.ledgers.get(job.ledger_path)
        return ledger.scene_history(job.script_name, job.scene_id) if ledger else []

    # -- the frame --------------------------------------------------------------------------

    def _frame(self, source: str, *, write: bool) -> tuple[Path, str] | str:
        """(the PNG, its digest) of the last frame of the source's clip in the cut, or why
        there is none. With `write`, the PNG is written and recorded before this returns."""
        from shotc.film.takes import the_cut

        scene = self.scenes.get(source)
        if scene is None:
            return f"no scene {source} in this run"
        ledger = self.ledgers.get(ledger_path_for(scene.script))
        if ledger is None:
            return "it has no clip yet (nothing has been run)"
        bound = dataclasses.replace(scene, request=self.bound[source])
        entry = the_cut([bound], ledger, drafts=self.mode is not None, digest=self.digests)[0]
        if entry.path is None:
            return f"no clip in the cut ({entry.state})"
        png = output_dir(scene.script, self.out_dir) / source / LAST_FRAME
        clip = self.digests(entry.path)
        record = ledger.last_frame(clip, png)
        on_disk = self._on_disk(png)
        if record is not None and on_disk == record.sha256:
            self.digests.frames[png] = record.sha256
            return png, record.sha256
        if not write and record is not None:
            # recorded, the file since moved or changed: run writes the same frame again
            self.digests.frames[png] = record.sha256
            return png, record.sha256
        data = _last_frame(entry.path)
        digest = hashlib.sha256(data).hexdigest()
        if write:
            from shotc.film.files import write_atomic

            png.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(png, data)
            # before any upload: the dependent's key holds this digest from now on
            ledger.record_last_frame(
                clip, png, digest, len(data), ledger.script_name(scene.script), source
            )
        self.digests.frames[png] = digest
        return png, digest

    def _on_disk(self, png: Path) -> str | None:
        self.digests.frames.pop(png, None)  # the file's own content, not a remembered one
        try:
            return self.digests(png) if png.is_file() else None
        except OSError:
            return None

    def _bind(self, scene: CompiledScene, jobs: Sequence[Job], frame: tuple[Path, str]) -> None:
        """The scene's request with its first frame the PNG, and its jobs keyed and
        classified by it (as `plan_jobs` does for any local image)."""
        png, _digest = frame
        placeholder = after_url(source_of_request(scene.request) or "")
        bound = _replaced(scene.request, placeholder, file_uri(png))
        self.bound[scene.scene_id] = bound
        for job in jobs:
            request = apply_mode(bound, self.mode)
            media: dict[Path, str] = {}

            def once(path: Path, media: dict[Path, str] = media) -> str:
                if path not in media:
                    media[path] = self.digests(path)
                return media[path]

            job.key, job.canonical = scene_key(request, once)
            job.request, job.media, job.held = request, media, ""
            ledger = self.ledgers.get(job.ledger_path)
            job.sub = ledger.latest(job.key, job.take) if ledger else None
            # as plan_jobs: only another version (another frame, say) makes it `changed`
            version = version_of_canonical(job.canonical)
            history = [h for h in self._history(job) if h.version != version]
            job.plan_state, job.will_send = classify(
                job.sub, history, job.key, resubmit_unknown=self.resubmit_unknown
            )

    # -- run time ---------------------------------------------------------------------------

    def ended(self, job: Job) -> None:
        """A job of this run has its outcome (the orchestrator's `_finish`)."""
        with self._ended:
            self._ended.notify_all()

    def ready(self, job: Job, stop: threading.Event) -> tuple[Outcome, str] | None:
        """Wait for the source, then fill the job in from its frame: None to go on, else the
        (outcome, message) the job ends with unsent."""
        source = job.after
        assert source is not None
        jobs = [j for j in self.jobs_of.get(source, []) if j is not job]
        with self._ended:
            while not all(j.outcome for j in jobs):
                if stop.is_set():
                    return Outcome.NOT_SENT, f"stopped while waiting for {source}"
                self._ended.wait(0.5)
        scene = next(s for s in job.scenes)
        with self._locks.setdefault(source, threading.Lock()):
            found = self._frame(source, write=True)
        if isinstance(found, str):
            unmade = [j for j in jobs if j.outcome not in _MADE]
            if any(j.outcome == Outcome.RUNNING for j in unmade):
                return (
                    Outcome.WAITING,
                    f"after {source}: still running; `shotc run` again sends this",
                )
            causes = [
                "it is blocked" if j.outcome == Outcome.BLOCKED else f"{j.outcome}: {j.message}"
                for j in unmade
            ]
            cause = causes[0] if causes else found
            return Outcome.BLOCKED, f"after {source}: {cause}"
        self._bind(scene, [job], found)
        return None


def as_sent(
    scenes: Sequence[CompiledScene], ledger: Ledger | None, digest: DigestCache
) -> tuple[list[CreateTaskRequest], DigestCache]:
    """Each scene's request as its latest takes were sent, for the film side's versions (the
    layout `run` files clips by, `status`, `cut`, `pick`, `review`, `prune`): a dependent's
    placeholder replaced by the last frame the ledger recorded last for its source, and a
    digest that knows that frame's content from the record (the PNG need not be on disk).

    Without it a dependent's version is that of `shotc://after/<id>`, which no take was sent
    with: its takes look like an older version's, and each `run` moved its clip to `older/`
    and copied it back. A dependent whose source has no recorded frame keeps its placeholder
    (nothing was sent for it)."""
    requests = [s.request for s in scenes]
    if ledger is None or not any(source_of_request(r) for r in requests):
        return requests, digest
    digests = FrameDigests(digest)  # its own frames: the caller's (continuity's) stay as they are
    for i, scene in enumerate(scenes):
        source = source_of_request(scene.request)
        frame = (
            ledger.latest_last_frame(ledger.script_name(scene.script), source) if source else None
        )
        if source is None or frame is None:
            continue
        uri = file_uri(Path(frame.path))
        digests.frames[file_uri_path(uri)] = frame.sha256
        requests[i] = _replaced(scene.request, after_url(source), uri)
    return requests, digests


def _failure(job: Job) -> str:
    sub = job.sub
    why = ": ".join(p for p in (sub.fail_code, sub.fail_msg) if p) if sub is not None else ""
    return f"it failed ({why})" if why else "it failed"


def _replaced(request: CreateTaskRequest, old: str, new: str) -> CreateTaskRequest:
    body: RequestInput = {**(request.get("input") or {})}
    frames = list(body.get("image_urls") or [])
    if frames and frames[0] == old:
        frames[0] = new
    body["image_urls"] = frames
    return {**request, "input": body}


def _last_frame(clip: Path) -> bytes:
    """The clip's final decoded video frame as PNG bytes (PyAV, imported only here)."""
    from shotc.film.media import last_video_frame, png_bytes

    return png_bytes(last_video_frame(clip))


def arrange(
    jobs: Sequence[Job],
    scenes: Sequence[CompiledScene],
    ledgers: dict[Path, Ledger | None],
    *,
    digest: DigestCache,
    out_dir: Path | None = None,
    mode: str | None = None,
    resubmit_unknown: bool = False,
) -> Continuity | None:
    """The run's continuity, its dependent jobs arranged (None when no scene has one)."""
    if not any(source_of_request(s.request) for s in scenes):
        return None
    found = Continuity(
        jobs,
        scenes,
        ledgers,
        digest=digest,
        out_dir=out_dir,
        mode=mode,
        resubmit_unknown=resubmit_unknown,
    )
    found.arrange()
    return found


__all__ = [
    "BLOCKED",
    "DONE",
    "LAST_FRAME",
    "WAITING",
    "Continuity",
    "FrameDigests",
    "arrange",
    "as_sent",
]
