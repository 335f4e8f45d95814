"""The createTask retry policy as a pure function: no server, no clock, no sleep. Each rule of
`shotc.run.submit_policy` is checked on its own, then as laws over arbitrary error sequences
(the policy always ends, never waits past the cap, never retries a 5xx more than `retries`
times and never a 429 past its patience)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shotc.run.errors import KieError, NotSent, RateLimited, Rejected, ServerError
from shotc.run.retry import Backoff
from shotc.run.submit_policy import Counters, GiveUp, Retry, decide

BACKOFF = Backoff(base=1.0, cap=30.0, retries=3)


def top(backoff: Backoff, attempt: int, retry_after: float | None) -> float:
    """The backoff's delay without jitter (its upper bound), so the tests are exact."""
    ceiling = min(backoff.cap, backoff.base * 2.0 ** min(attempt, 64))
    asked = min(retry_after, backoff.cap) if retry_after is not None else 0.0
    return max(ceiling, asked)


def step(exc: KieError, counters: Counters, now: float = 0.0, **kw: object) -> object:
    options: dict[str, object] = {
        "backoff": BACKOFF,
        "retries": 3,
        "patience_until": 100.0,
        "delay": top,
    }
    options.update(kw)
    return decide(exc, counters, now, **options)  # type: ignore[arg-type]


def test_a_server_error_is_retried_with_growing_waits_then_given_up() -> None:
    counters = Counters()
    waits = []
    for _ in range(3):
        decision = step(ServerError("502"), counters)
        assert isinstance(decision, Retry) and not decision.pause_limiter
        waits.append(decision.wait)
        counters = decision.counters
    assert waits == [1.0, 2.0, 4.0]
    final = step(ServerError("502"), counters)
    assert (
        isinstance(final, GiveUp) and "after 3 retries" in final.why
    )  # 4 attempts: the first and 3 retries


def test_retry_after_is_honoured_and_capped() -> None:
    asked = step(NotSent("reset", retry_after=7.0), Counters())
    assert isinstance(asked, Retry) and asked.wait == 7.0
    huge = step(NotSent("reset", retry_after=1e300), Counters())
    assert isinstance(huge, Retry) and huge.wait == BACKOFF.cap


def test_a_429_pauses_everyone_and_is_bounded_by_patience_not_count() -> None:
    counters = Counters(attempt=3)  # the 5xx budget is spent: a 429 does not use it
    decision = step(RateLimited("429"), counters, now=0.0)
    assert isinstance(decision, Retry) and decision.pause_limiter
    assert decision.counters == Counters(attempt=3, limited=1)
    late = step(RateLimited("429"), Counters(limited=2), now=97.0)  # 97 + 4 > 100
    assert isinstance(late, GiveUp)


def test_a_refusal_for_stale_cached_uploads_is_retried_once_with_fresh_ones() -> None:
    refused = Rejected("cannot fetch image")
    first = step(refused, Counters(), unfetchable_with_cache=True)
    assert isinstance(first, Retry) and first.refresh_uploads and first.wait == 0.0
    again = step(refused, first.counters, unfetchable_with_cache=True)
    assert isinstance(again, GiveUp)
    assert isinstance(step(refused, Counters()), GiveUp)  # any other refusal settles it


errors = st.sampled_from(
    [ServerError("5xx"), NotSent("conn"), RateLimited("429"), Rejected("refused")]
)


@given(
    seq=st.lists(errors, min_size=1, max_size=60),
    retry_after=st.one_of(st.none(), st.floats(0, 1e9)),
    retries=st.integers(0, 8),
)
def test_laws_the_policy_always_ends_and_never_waits_past_the_cap(
    seq: list[KieError], retry_after: float | None, retries: int
) -> None:
    counters, now, server_retries = Counters(), 0.0, 0
    for exc in seq:
        exc.retry_after = retry_after
        decision = decide(
            exc,
            counters,
            now,
            backoff=BACKOFF,
            retries=retries,
            patience_until=120.0,
            unfetchable_with_cache=isinstance(exc, Rejected),
        )
        if isinstance(decision, GiveUp):
            assert decision.why
            return
        assert 0.0 <= decision.wait <= BACKOFF.cap
        if isinstance(exc, (ServerError, NotSent)):
            server_retries += 1
            assert server_retries <= retries
        if isinstance(exc, RateLimited):
            assert now + decision.wait <= 120.0
        now += decision.wait
        counters = decision.counters
    assert counters.retries + counters.refreshed <= len(seq)
