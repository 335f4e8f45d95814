"""Run stage: what to do while kie.ai cannot be reached (connection refused, DNS failure,
connect timeout).

A connection that never opened created nothing, so waiting and trying again is always safe,
even for createTask. One `Outage` per base URL is shared by every request a client makes:
the first failure is announced at once (the base URL, the attempt number, the next wait),
the workers that fail meanwhile wait for the same next try instead of counting attempts of
their own (twenty scenes do not print twenty lines), and after `timeout` seconds without a
connection the outage is given up for good: `Unreachable`, an account-wide halt, printed once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shotc.run.errors import Unreachable
from shotc.run.retry import Backoff


class Outage:
    def __init__(
        self,
        base: str,
        *,
        timeout: float,
        backoff: Backoff,
        notice: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.timeout = timeout
        self._backoff = backoff
        self.notice = notice
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None  # first failure of the current outage
        self._attempts = 0
        self._next = 0.0  # when the next try is due
        self._given_up: str | None = None

    def check(self) -> None:
        """Raise Unreachable if this outage was given up: nothing more is tried."""
        if self._given_up is not None:
            raise Unreachable(self._given_up)

    def reached(self) -> None:
        """An answer came (any answer): the outage, if any, is over."""
        with self._lock:
            if self._since is None:
                return
            self._since = None
            self._attempts = 0
        self.notice(f"kie.ai at {self.base} answers again")

    def failed(self, reason: str) -> float:
        """A connection failed; seconds to wait before trying again, or Unreachable."""
        with self._lock:
            if self._given_up is not None:
                raise Unreachable(self._given_up)
            now = self._clock()
            if self._since is None:
                self._since = now
                self._next = now
            end = self._since + self.timeout
            if now < self._next:
                return self._next - now  # another worker's failure already set the next try
            if now >= end:
                self._given_up = (
                    f"cannot reach kie.ai at {self.base} ({reason}): gave up after "
                    f"{self._attempts + 1} attempts in {now - self._since:.0f}s; nothing more "
                    "is sent in this run (set unreachable_timeout in shotc.toml to wait longer)"
                )
                raise Unreachable(self._given_up)
            wait = min(self._backoff.delay(self._attempts), end - now)
            self._attempts += 1
            self._next = now + wait
            attempt = self._attempts
        self.notice(
            f"cannot reach kie.ai at {self.base} ({reason}): attempt {attempt} failed, "
            f"next in {wait:.1f}s (giving up {self.timeout:.0f}s after the first failure)"
        )
        return wait


__all__ = ["Outage"]
