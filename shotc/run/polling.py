"""Run stage: following one created task with recordInfo until it ends, its deadline passes
or the run stops waiting.

recordInfo never creates anything, so every error short of an account-wide refusal is simply
retried with backoff (404/422 right after creation are normal). Each state read is recorded in
the ledger as it arrives, so a later `run` or `status` resumes from it; the ledger is read
back before each question, so an end recorded by another process (`status`) is followed too.
A task is over only when it failed or succeeded with a result URL to download.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shotc.run.client import KieClient, TaskInfo
from shotc.run.config import RunSettings
from shotc.run.errors import Halt, KieError, halt_note
from shotc.run.ledger import Ledger, TransitionError
from shotc.run.ledger_schema import FAIL, KIE_STATES, SUCCESS, Submission
from shotc.run.planner import Job
from shotc.run.progress import Progress
from shotc.run.retry import Backoff, Sleep, Stopped, wait_on


@dataclass(frozen=True, slots=True)
class StoppedWaiting:
    """Why following stopped before the task ended (it goes on at kie.ai: still `running`)."""

    message: str
    halt: Halt | None = None  # an account-wide refusal the whole run must hear about


def record_answer(ledger: Ledger, sid: int, info: TaskInfo) -> bool:
    """Record what recordInfo said; whether the ledger changed.

    `success` without a usable result URL is not recorded as the end: kie.ai may answer it
    before filling in resultJson, and a `success` with nothing to download would leave a paid
    clip that nobody asks about again. The task stays unfinished in the ledger, so this run
    (until its deadline), the next one and `status` keep asking."""
    if info.state not in KIE_STATES or (info.state == SUCCESS and not info.result_urls):
        return False
    try:
        return ledger.remote(
            sid,
            info.state,
            result_urls=info.result_urls,
            fail_code=info.fail_code,
            fail_msg=info.fail_msg,
            cost_time_ms=info.cost_time_ms,
        )
    except TransitionError:
        # `status` and `run` may both ask: an answer read before the other process recorded
        # the end (`generating` after `success`) is stale, not a broken state machine.
        if ended(ledger.get(sid)):
            return False
        raise


def ended(sub: Submission) -> bool:
    """Nothing more to ask kie.ai: failed, or succeeded with a URL to download."""
    return sub.state == FAIL or (sub.state == SUCCESS and bool(sub.result_urls))


def follow(
    job: Job,
    ledger: Ledger,
    *,
    client: KieClient,
    settings: RunSettings,
    backoff: Backoff,
    stop: threading.Event,
    progress: Progress,
    wait: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = wait_on,
) -> StoppedWaiting | None:
    """Poll until the task ends: None when it did (job.sub holds success with a result URL,
    or fail), else why waiting stopped. Raises Stopped when the run is told to stop."""
    assert job.sub is not None and job.sub.task_id
    sid = job.sub.id
    task_id = job.sub.task_id
    if not wait and job.created_now:
        return StoppedWaiting(f"submitted, task {task_id} (not waiting)")
    deadline = clock() + settings.deadline
    delay = settings.poll_initial if job.created_now else 0.0
    interval = settings.poll_initial
    errors = 0
    progress.update(job, job.sub.state)
    while True:
        if sleep(stop, delay):
            raise Stopped()
        # The ledger, not our copy, is the truth: `status` may have recorded the end meanwhile
        # (and then our own answer changes nothing in the ledger).
        job.sub = ledger.get(sid)
        if ended(job.sub):
            progress.update(job, job.sub.state)
            return None
        try:
            info = client.record_info(task_id, scene_id=job.scene_id)
        except Halt as exc:
            return StoppedWaiting(f"task {task_id}: {halt_note(exc)}", exc)
        except KieError as exc:
            errors += 1
            delay = backoff.delay(min(errors, 6), exc.retry_after)
            job.message = str(exc)
        else:
            errors = 0
            record_answer(ledger, sid, info)
            job.sub = ledger.get(sid)
            if ended(job.sub):
                progress.update(job, job.sub.state)
                return None
            if info.state != job.status:
                detail = "no result URL yet: asking again" if info.state == SUCCESS else ""
                progress.update(job, info.state, detail)
            delay = interval
            interval = min(interval * settings.poll_factor, settings.poll_max)
        if not wait:
            return StoppedWaiting(f"task {task_id} is {_shown(job.sub)} (not waiting)")
        if clock() + delay > deadline:
            # The last failed question says why, if asking kept failing (a huge answer...).
            why = f" (last answer: {job.message})" if errors else ""
            return StoppedWaiting(
                f"still {_shown(job.sub)} after {settings.deadline:.0f}s{why}; "
                f"task {task_id} goes on at kie.ai"
            )


def _shown(sub: Submission) -> str:
    return "without a result URL" if sub.awaiting_result else sub.state
