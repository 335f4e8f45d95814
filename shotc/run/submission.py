"""Run stage: one job's createTask, as the orchestrator runs it. The order is fixed: take a
limiter slot, commit the intent, POST, commit the answer; only attempts that provably created
nothing are repeated (`shotc.run.submit_policy` decides), an answer that never came leaves the
scene `unknown`, and a task id the ledger could not record goes to the recovery file at once.

`SubmitSteps` is the orchestrator's half that talks to createTask; it shares the orchestrator's
state (gate, limiter, in-flight count), declared below, and is mixed into `Orchestrator`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from shotc.run import recovery
from shotc.run.client import KieClient
from shotc.run.config import RunSettings
from shotc.run.errors import (
    AnswerLost,
    Halt,
    KieError,
    LocalIOError,
    NotSent,
    RateLimited,
    Rejected,
    ServerError,
    halt_note,
)
from shotc.run.ledger import Ledger, LedgerWriteFailed
from shotc.run.ledger_schema import UNKNOWN
from shotc.run.limiter import Limiter, Slot
from shotc.run.planner import Job
from shotc.run.progress import Progress
from shotc.run.retry import Backoff, Sleep
from shotc.run.states import Outcome
from shotc.run.submit_policy import Counters, GiveUp, decide
from shotc.run.uploads import Resolved, Uploader, unfetchable

NOT_RESENT = "Not re-sent: pass --resubmit-unknown to send it again"


class SubmitSteps:
    """createTask for one job at a time, many jobs concurrently (one thread each)."""

    # The orchestrator's state these steps use (set in `Orchestrator.__init__`).
    _client: KieClient | None
    _uploader: Uploader | None
    _settings: RunSettings
    _backoff: Backoff
    _progress: Progress
    _clock: Callable[[], float]
    _sleep: Sleep
    _flight: threading.Condition
    _in_flight: int
    _gate: threading.Event
    stop: threading.Event
    limiter: Limiter
    ledger_failure: LedgerWriteFailed | None

    # Provided by `Orchestrator` (the control half); declared here for the type checker.
    def _finish(self, job: Job, outcome: Outcome, message: str = "") -> None:
        raise NotImplementedError

    def _why_not_sent(self) -> str:
        raise NotImplementedError

    def _set_halt(self, exc: Halt) -> None:
        raise NotImplementedError

    def _ledger_broke(self, exc: LedgerWriteFailed) -> None:
        raise NotImplementedError

    def _submit(self, job: Job, ledger: Ledger) -> bool:
        """Create the task; True when a task id was recorded (job.sub holds it)."""
        if self._gate.is_set():
            job.io_error = self.ledger_failure is not None
            self._finish(job, Outcome.NOT_SENT, self._why_not_sent())
            return False
        assert self._client is not None and self._uploader is not None and job.request
        self._progress.update(job, "uploading")
        resolved = self._uploader.resolve(job.request, ledger, media=job.media)
        replaces = job.sub.id if job.sub is not None and job.sub.state == UNKNOWN else None
        sid: int | None = None
        counters = Counters()
        patience = self._clock() + self._settings.rate_limit_patience
        self._progress.update(job, "queued")
        while True:
            slot = self.limiter.acquire(self._gate)
            with self._flight:
                go = slot is not None and not self._gate.is_set()
                if go:
                    self._in_flight += 1
            if not go:
                if slot is not None:
                    self.limiter.release(slot, counts=False)
                job.io_error = self.ledger_failure is not None
                if sid is not None:
                    ledger.not_sent(sid, "stopped between attempts")
                self._finish(job, Outcome.NOT_SENT, self._why_not_sent())
                return False
            assert slot is not None
            try:
                result = self._post(job, ledger, resolved, slot, sid, replaces, counters.refreshed)
            finally:
                with self._flight:
                    self._in_flight -= 1
                    self._flight.notify_all()
            if isinstance(result, str):
                return True
            sid, exc = result
            if exc is None:
                return False
            # `_post` settles every refusal itself but the one for stale cached uploads.
            decision = decide(
                exc,
                counters,
                self._clock(),
                backoff=self._backoff,
                retries=self._settings.retries,
                patience_until=patience,
                unfetchable_with_cache=isinstance(exc, Rejected),
            )
            if isinstance(decision, GiveUp):
                ledger.not_sent(sid, decision.why)
                self._finish(job, Outcome.NOT_SENT, decision.why)
                return False
            counters = decision.counters
            if decision.refresh_uploads:
                # Refused, maybe for cached uploads kie.ai no longer has. Nothing was created,
                # so sending it again cannot pay twice; once, with this run's own uploads.
                self._progress.update(job, "uploading", "cached uploads refused: uploading again")
                try:
                    resolved = self._uploader.refresh(
                        job.request, resolved, ledger, media=job.media
                    )
                except BaseException as err:
                    ledger.not_sent(sid, f"uploading again failed: {err or type(err).__name__}")
                    raise
                continue
            if decision.pause_limiter:
                self.limiter.pause(decision.wait)  # a 429 is the account's: everyone waits
            self._progress.update(job, "retrying", str(exc))
            if self._sleep(self.stop, decision.wait):
                ledger.not_sent(sid, "stopped between attempts")
                self._finish(job, Outcome.NOT_SENT, "stopped")
                return False

    def _post(
        self,
        job: Job,
        ledger: Ledger,
        resolved: Resolved,
        slot: Slot,
        sid: int | None,
        replaces: int | None,
        refreshed: bool,
    ) -> str | tuple[int, KieError | None]:
        """One createTask attempt, recorded before and after. The task id on success; else
        (submission id, the error if it may be retried, or None when the job is settled).
        A Rejected error asks for the request to be resolved again with fresh uploads."""
        assert self._client is not None and self._uploader is not None
        counts = False  # nothing has left this machine yet: the slot goes back unused
        try:
            if sid is None:
                sid = ledger.begin(
                    scene_key=job.key,
                    take=job.take,
                    script=job.script_name,
                    scene_id=job.scene_id,
                    film_title=job.film_title,
                    request=job.canonical,
                    seconds=job.seconds,
                    mode=job.mode,
                    sound=job.sound,
                    est_credits=job.est_credits,
                    replaces_unknown=replaces,
                    lease=self._settings.claim_lease,
                ).id
            else:
                ledger.attempt(sid, self._settings.claim_lease)
            if self._gate.is_set():
                # Stopped (or the ledger failed) between the intent and the POST: not sent.
                self._not_sent_before_post(job, ledger, sid)
                return sid, None
            if not ledger.posting(sid, self._settings.claim_lease):
                # Taken for silent by another machine (its lease passed) and settled: the
                # scene is theirs now; sending would risk paying twice.
                self._finish(job, Outcome.NOT_SENT, "claim lost to another machine; not sent")
                return sid, None
            self._progress.update(job, "sending")
            counts = True  # from here a task may exist: the slot ages from the answer
            try:
                task_id = self._client.create_task(resolved.body, scene_id=job.scene_id)
            except (NotSent, RateLimited, ServerError) as exc:
                # Nothing was created, so this attempt is not one of the N new tasks a period.
                counts = False
                ledger.retrying(sid, str(exc), self._settings.claim_lease)
                return sid, exc
            except AnswerLost as exc:
                ledger.unknown(sid, str(exc))
                self._finish(job, Outcome.UNKNOWN, f"{exc}; the task may exist. {NOT_RESENT}")
                return sid, None
            except Halt as exc:
                ledger.not_sent(sid, str(exc))
                self._set_halt(exc)
                self._finish(job, Outcome.NOT_SENT, halt_note(exc))
                return sid, None
            except Rejected as exc:
                if unfetchable(exc):
                    if resolved.cached and not refreshed:
                        ledger.retrying(sid, f"{exc}; uploading its media again")
                        return sid, exc
                    # No longer trusted, fresh or not: the next run uploads these files again.
                    self._uploader.forget(resolved.uploads, ledger)
                ledger.not_sent(sid, str(exc))
                self._finish(job, Outcome.REFUSED, str(exc))
                return sid, None
            except Exception as exc:
                # We cannot tell whether it left: treat it like a lost answer.
                ledger.unknown(sid, f"internal error while sending: {exc!r}")
                raise
            self._record_created(job, ledger, sid, task_id)
        finally:
            # On every path, a failing ledger write included: a slot never given back would
            # leave every later acquire() waiting for ever.
            self.limiter.release(slot, counts=counts)
        job.sub = ledger.get(sid)
        job.created_now = True
        self._progress.update(job, "submitted", task_id)
        return task_id

    def _not_sent_before_post(self, job: Job, ledger: Ledger, sid: int) -> None:
        job.io_error = self.ledger_failure is not None
        try:
            ledger.not_sent(sid, "stopped before its POST")
        except LedgerWriteFailed:
            # Left `sending`, the next run would call it `unknown`: the recovery file says
            # it never left.
            entry = recovery.Entry(recovery.NOT_SENT_MARK, sid, job.key, job.take, job.scene_id)
            recovery.save(ledger.path, [entry])
        self._finish(job, Outcome.NOT_SENT, self._why_not_sent())

    def _record_created(self, job: Job, ledger: Ledger, sid: int, task_id: str) -> None:
        try:
            ledger.created(sid, task_id)
        except LedgerWriteFailed as exc:
            # The task exists and is paid for: its id reaches the user now, and the recovery
            # file where the disk allows, so the next `run` records and follows it.
            self._ledger_broke(exc)
            job.created_now = True  # counted in the summary's "task(s) created": it was
            entry = recovery.Entry(task_id, sid, job.key, job.take, job.scene_id)
            where = recovery.save(ledger.path, [entry])
            kept = (
                f"saved in {where}: the next `shotc run` or `shotc status` records and follows it"
                if where is not None
                else "and no recovery file could be written: note this task id"
            )
            self._progress.say(
                f"error: scene {job.scene_id}: task {task_id} was created (paid) but the "
                f"ledger could not record it; {kept}"
            )
            raise LocalIOError(f"task {task_id} was created but not recorded ({kept})") from None
        except LocalIOError as exc:
            # The ledger refused this id (it holds it for another submission): the id is
            # kept in this row's error, `unknown`, not re-sent without --resubmit-unknown.
            why = f"task {task_id} was created but not recorded: {exc}"
            with contextlib.suppress(LocalIOError):
                ledger.unknown(sid, why)
            raise LocalIOError(why) from None
