"""Run stage: following one created task with recordInfo until it ends, its deadline passes
or the run stops waiting.

recordInfo never creates anything, so every error short of an account-wide refusal is simply
retried with backoff (404/422 right after creation are normal). Each state read is recorded in
the ledger as it arrives, so a later `run` or `status` resumes from it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from shotc.run.client import KieClient
from shotc.run.config import RunSettings
from shotc.run.errors import Halt, KieError
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import FAIL, KIE_STATES, SUCCESS
from shotc.run.planner import Job
from shotc.run.progress import Progress
from shotc.run.retry import Backoff, Stopped


@dataclass(frozen=True, slots=True)
class StoppedWaiting:
    """Why following stopped before the task ended (it goes on at kie.ai: still `running`)."""

    message: str
    halt: Halt | None = None  # an account-wide refusal the whole run must hear about


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
) -> StoppedWaiting | None:
    """Poll until the task ends: None when it did (job.sub holds success or fail), else why
    waiting stopped. Raises Stopped when the run is told to stop."""
    assert job.sub is not None and job.sub.task_id
    sub = job.sub
    task_id = sub.task_id
    assert task_id is not None
    if not wait and job.created_now:
        return StoppedWaiting(f"submitted, task {task_id} (not waiting)")
    deadline = time.monotonic() + settings.deadline
    delay = settings.poll_initial if job.created_now else 0.0
    interval = settings.poll_initial
    errors = 0
    progress.update(job, sub.state)
    while True:
        if stop.wait(delay):
            raise Stopped()
        try:
            info = client.record_info(task_id, scene_id=job.scene_id)
        except Halt as exc:
            return StoppedWaiting(f"cannot follow task {task_id}: {exc}", exc)
        except KieError as exc:
            errors += 1
            delay = backoff.delay(min(errors, 6), exc.retry_after)
            job.message = str(exc)
        else:
            errors = 0
            if info.state in KIE_STATES and ledger.remote(
                sub.id,
                info.state,
                result_urls=info.result_urls,
                fail_code=info.fail_code,
                fail_msg=info.fail_msg,
                cost_time_ms=info.cost_time_ms,
            ):
                job.sub = ledger.get(sub.id)
                progress.update(job, info.state)
            if info.state in (SUCCESS, FAIL):
                return None
            delay = interval
            interval = min(interval * settings.poll_factor, settings.poll_max)
        if not wait:
            return StoppedWaiting(f"task {task_id} is {job.sub.state} (not waiting)")
        if time.monotonic() + delay > deadline:
            return StoppedWaiting(
                f"still {job.sub.state} after {settings.deadline:.0f}s; "
                f"task {task_id} goes on at kie.ai"
            )
