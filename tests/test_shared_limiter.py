"""The account's rate limit shared through PostgreSQL: several "machines" (limiters with
connections of their own) on one database never exceed N new tasks per period, on the
server's clock; a 429's pause reaches all of them; a dead machine's in-flight slot expires.

The assertions read the server's timestamps that each slot carries (when it was granted,
when its answer was recorded), never the test's own clock, so they hold however the threads
are scheduled."""

from __future__ import annotations

import random
import threading
from typing import Any

import psycopg

from shotc.run.limiter import Slot
from shotc.run.shared_limiter import SharedRateLimiter, SharedSlot


def machine(url: str, name: str, limit: int, period: float, **kw: Any) -> SharedRateLimiter:
    return SharedRateLimiter(
        url, limit, period, owner=name, in_flight_max=kw.pop("in_flight_max", 30.0), **kw
    )


def never_more_than(limit: int, period: float, slots: list[SharedSlot]) -> None:
    """At each grant, fewer than `limit` earlier slots were in flight or answered within the
    last period (a slot answered at `stamp` blocks until `stamp + period`)."""
    for s in slots:
        busy = [o for o in slots if o.taken_at < s.taken_at and o.stamp + period > s.taken_at]
        assert len(busy) < limit, (s.taken_at, [(o.taken_at, o.stamp) for o in busy])


def test_three_machines_share_one_window(pg_url: str) -> None:
    limit, period = 4, 0.3
    limiters = [machine(pg_url, f"m{i}", limit, period) for i in range(3)]
    granted: list[SharedSlot] = []
    lock = threading.Lock()

    def worker(limiter: SharedRateLimiter, n: int) -> None:
        rng = random.Random(n)
        for _ in range(4):
            slot = limiter.acquire()
            assert isinstance(slot, SharedSlot)
            threading.Event().wait(rng.uniform(0, 0.02))  # the POST
            limiter.release(slot)
            with lock:
                granted.append(slot)

    threads = [
        threading.Thread(target=worker, args=(lim, i * 10 + j))
        for i, lim in enumerate(limiters)
        for j in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert len(granted) == 36
    never_more_than(limit, period, granted)
    # Several windows were needed, and the limiter did not serialise more than it must.
    span = max(s.taken_at for s in granted) - min(s.taken_at for s in granted)
    assert span >= (36 // limit - 1) * period
    for lim in limiters:
        lim.close()


def test_a_pause_reaches_every_machine(pg_url: str) -> None:
    a, b = machine(pg_url, "a", 5, 0.1), machine(pg_url, "b", 5, 0.1)
    a.pause(0.4)
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT until FROM shotc_rate_pause").fetchone()
    assert row is not None
    slot = b.acquire()
    assert isinstance(slot, SharedSlot)
    assert slot.taken_at >= float(row[0])
    a.close()
    b.close()


def test_a_shorter_pause_never_shortens_a_longer_one(pg_url: str) -> None:
    a, b = machine(pg_url, "a", 5, 0.1), machine(pg_url, "b", 5, 0.1)
    a.pause(600.0)
    b.pause(1.0)
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT until - extract(epoch from clock_timestamp()) FROM shotc_rate_pause"
        ).fetchone()
    assert row is not None and float(row[0]) > 500.0
    a.close()
    b.close()


def test_a_dead_machines_in_flight_slot_expires(pg_url: str) -> None:
    dead = machine(pg_url, "dead", 1, 0.2, in_flight_max=0.3)
    held = dead.acquire()
    assert isinstance(held, SharedSlot)
    dead.close()  # it never answers
    alive = machine(pg_url, "alive", 1, 0.2, in_flight_max=0.3)
    slot = alive.acquire()
    assert isinstance(slot, SharedSlot)
    # Counted until the server could have counted it (in_flight_max) plus a period.
    assert slot.taken_at >= held.taken_at + 0.3 + 0.2
    alive.close()


def test_a_refused_attempt_frees_its_slot_at_once(pg_url: str) -> None:
    a = machine(pg_url, "a", 1, 60.0)
    first = a.acquire()
    assert first is not None
    a.release(first, counts=False)  # a 429 or a connection error: nothing was created
    got: list[Slot | None] = []
    t = threading.Thread(target=lambda: got.append(a.acquire()))
    t.start()
    t.join(10)
    assert got and isinstance(got[0], SharedSlot)
    a.close()


def test_stop_ends_a_wait(pg_url: str) -> None:
    a = machine(pg_url, "a", 1, 60.0)
    assert a.acquire() is not None  # held in flight
    stop = threading.Event()
    got: list[Slot | None] = []
    t = threading.Thread(target=lambda: got.append(a.acquire(stop)))
    t.start()
    stop.set()
    a.wake()
    t.join(10)
    assert got == [None]
    a.close()
