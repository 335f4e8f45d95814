"""Run stage: what to do after a createTask attempt that provably created nothing, as a pure
function of (the error, the counters so far, now) to a decision.

The orchestrator owns the effects (the ledger, the limiter, the wait); this module owns the
rule, so it can be tested exhaustively without a server, a clock or a sleep:
- a 429 (RateLimited) is retried for as long as the run's `rate_limit_patience` allows,
  since kie.ai does not queue it and repeating it cannot pay twice;
- a 5xx or a connection error before sending is retried at most `retries` times;
- each wait is the backoff's (exponential with jitter, at least `Retry-After`, at most the
  cap);
- a refusal for media kie.ai cannot fetch, when cached uploads were used, is retried once
  with fresh uploads (the orchestrator uploads again); any other refusal settles the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shotc.run.errors import KieError, RateLimited, Rejected
from shotc.run.retry import Backoff


@dataclass(frozen=True, slots=True)
class Counters:
    attempt: int = 0  # retries after 5xx and connection errors
    limited: int = 0  # retries after 429, bounded by time instead
    refreshed: bool = False  # the one retry with fresh uploads has been used

    @property
    def retries(self) -> int:
        return self.attempt + self.limited


@dataclass(frozen=True, slots=True)
class Retry:
    wait: float  # seconds before the next attempt
    counters: Counters
    pause_limiter: bool = False  # a 429: every worker waits, not only this one
    refresh_uploads: bool = False  # upload the media again before retrying (no wait)


@dataclass(frozen=True, slots=True)
class GiveUp:
    why: str


Decision = Retry | GiveUp


def decide(
    exc: KieError,
    counters: Counters,
    now: float,
    *,
    backoff: Backoff,
    retries: int,
    patience_until: float,
    unfetchable_with_cache: bool = False,
    delay: Callable[[Backoff, int, float | None], float] | None = None,
) -> Decision:
    """The next step after `exc` from an attempt that created nothing.

    `now` and `patience_until` are on the same monotonic clock; `unfetchable_with_cache`: the
    refusal was for media that kie.ai could not fetch and the request used cached uploads;
    `delay` replaces the backoff's jittered delay (tests)."""
    wait_for = delay or (lambda b, n, after: b.delay(n, after))
    if isinstance(exc, Rejected):
        if unfetchable_with_cache and not counters.refreshed:
            return Retry(0.0, replace(counters, refreshed=True), refresh_uploads=True)
        return GiveUp(str(exc))
    if isinstance(exc, RateLimited):
        wait = wait_for(backoff, counters.limited, exc.retry_after)
        after = replace(counters, limited=counters.limited + 1)
        if now + wait > patience_until:
            return GiveUp(f"gave up after {counters.retries} retries: {exc}")
        return Retry(wait, after, pause_limiter=True)
    wait = wait_for(backoff, counters.attempt, exc.retry_after)
    after = replace(counters, attempt=counters.attempt + 1)
    if after.attempt > retries:
        return GiveUp(f"gave up after {counters.retries} retries: {exc}")
    return Retry(wait, after)
