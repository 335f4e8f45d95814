"""Run stage: exponential backoff with jitter, honouring `Retry-After`.

Used for requests that are safe to repeat (uploads, recordInfo, downloads, and createTask
attempts that provably created nothing). Whether an error is safe is the caller's decision.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shotc.run.errors import AnswerLost, KieError, NotSent, RateLimited, ServerError

T = TypeVar("T")

SAFE_TO_REPEAT: tuple[type[KieError], ...] = (NotSent, RateLimited, ServerError, AnswerLost)


# How the run waits: `sleep(stop, seconds)` returns True when `stop` was set meanwhile (the
# wait ended early). The default is `Event.wait`; tests inject one that advances a fake clock.
Sleep = Callable[[threading.Event, float], bool]


def wait_on(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


class Stopped(Exception):
    """The user asked to stop (Ctrl-C) while we were waiting to retry."""


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 1.0
    cap: float = 60.0
    retries: int = 8

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based): full-ish jitter between
        half and all of base * 2**attempt, so a crowd of workers does not retry in step;
        never less than the server's Retry-After, and never more than `cap`, whatever the
        server asks for (a Retry-After of a year would otherwise hang the run)."""
        # 2**attempt is an int: past ~1024 it no longer converts to a float (OverflowError),
        # and a 429 storm can count that many attempts. 2**64 is past any cap already.
        ceiling = min(self.cap, self.base * float(2 ** min(max(attempt, 0), 64)))
        wait = random.uniform(ceiling / 2, ceiling)
        asked = min(retry_after, self.cap) if retry_after is not None else 0.0
        return max(wait, asked)


def call_with_retries(
    fn: Callable[[], T],
    *,
    backoff: Backoff,
    stop: threading.Event,
    retry_on: tuple[type[KieError], ...] = SAFE_TO_REPEAT,
    on_retry: Callable[[KieError, float], None] | None = None,
    sleep: Sleep = wait_on,
) -> T:
    """Call `fn` until it succeeds, raises something not in `retry_on`, or retries run out
    (then the last error is raised). Raises Stopped if `stop` is set while waiting."""
    attempt = 0
    while True:
        try:
            return fn()
        except retry_on as exc:
            if attempt >= backoff.retries:
                raise
            wait = backoff.delay(attempt, exc.retry_after)
            if on_retry is not None:
                on_retry(exc, wait)
            attempt += 1
            if sleep(stop, wait):
                raise Stopped() from exc
