"""Run stage: the client-side rate limiter for createTask (N new tasks per period).

A sliding window whose slots are stamped when the *answer* arrives, not when the request
leaves: the server counted the request at some instant before its answer, so waiting a full
period after the answer can never land inside the server's window, whatever the latency.
An in-flight request holds its slot, so at most N POSTs are ever in flight. A 429 pauses
everyone (kie.ai does not queue it, so hammering on only makes more).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol


class Slot:
    __slots__ = ("stamp",)

    def __init__(self) -> None:
        self.stamp = math.inf  # in flight until released


class Limiter(Protocol):
    """What the orchestrator asks of a limiter: this one, or the shared one of a PostgreSQL
    ledger (`shotc.run.shared_limiter`)."""

    def acquire(self, stop: threading.Event | None = None) -> Slot | None: ...
    def release(self, slot: Slot, *, counts: bool = True) -> None: ...
    def pause(self, seconds: float) -> None: ...
    def wake(self) -> None: ...


class RateLimiter:
    def __init__(
        self, limit: int, period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("rate limit needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._slots: list[Slot] = []
        self._paused_until = 0.0
        self._cond = threading.Condition()

    def acquire(self, stop: threading.Event | None = None) -> Slot | None:
        """Block until a request may go out; None when `stop` was set meanwhile."""
        with self._cond:
            while True:
                if stop is not None and stop.is_set():
                    return None
                now = self._clock()
                self._slots = [s for s in self._slots if s.stamp + self.period > now]
                if now < self._paused_until:
                    wait: float | None = self._paused_until - now
                elif len(self._slots) < self.limit:
                    slot = Slot()
                    self._slots.append(slot)
                    return slot
                else:
                    oldest = min(s.stamp for s in self._slots)
                    wait = None if oldest == math.inf else oldest + self.period - now
                # Without a deadline we wait for a release; wake() handles `stop`.
                self._cond.wait(timeout=wait)

    def release(self, slot: Slot, *, counts: bool = True) -> None:
        """The answer came (or the attempt ended): the slot ages from now. A request that
        created nothing (never connected, or answered 429/5xx) frees its slot at once: the
        limit is on new tasks."""
        with self._cond:
            if counts:
                slot.stamp = self._clock()
            elif slot in self._slots:
                self._slots.remove(slot)
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        """After a 429: nobody sends for `seconds`."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._cond.notify_all()

    def wake(self) -> None:
        """Let waiters re-check their stop event."""
        with self._cond:
            self._cond.notify_all()
