"""Run stage: the account's createTask rate limit shared by every machine on one PostgreSQL
ledger, its state in the database and on the database's clock.

kie.ai limits new tasks per account (20 per 10 s), not per machine: three machines that each
keep their own `RateLimiter` would send three times the limit and meet 429s. This limiter has
the same rule and the same interface as `shotc.run.limiter.RateLimiter` (a sliding window
whose slots age from the *answer*, in-flight requests hold their slot, a 429 pauses everyone),
with the slots and the pause in two small tables. Every decision is one short transaction
under a transaction-level advisory lock, so machines take slots one at a time, and every time
is the server's `clock_timestamp()`: the machines' own clocks may disagree by seconds, which
would let a window open early.

A machine that dies with a request in flight leaves its slot; it is counted until the latest
moment the server could have counted that request (`in_flight_max` after it was taken: the
client's connect and read timeouts) plus a period, and then forgotten.

Why not pyrate-limiter's PostgreSQL bucket: it stamps a request when it is *asked for*, on the
client's clock, and has no notion of an in-flight request or of a shared pause after a 429;
stamping at the answer is what makes the window safe whatever the latency, so the two tables
below are the smaller and the safer thing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shotc.run.errors import LocalIOError
from shotc.run.limiter import Slot

if TYPE_CHECKING:
    import psycopg

# pg_advisory_xact_lock key of the limiter's decisions ("shotc rate" as a number).
LIMITER_LOCK = 0x73686F7463_7261
NOW = "extract(epoch from clock_timestamp())::double precision"
# The limiter's own bookkeeping, not ledger records (`ledger migrate` leaves `shotc_*` tables
# alone): made by the first limiter on a database, under the lock, IF NOT EXISTS.
DDL = (
    "CREATE TABLE IF NOT EXISTS shotc_rate_slots ("
    " id BIGSERIAL PRIMARY KEY,"
    " owner TEXT NOT NULL,"
    " taken_at DOUBLE PRECISION NOT NULL,"  # the server's clock, epoch seconds
    " stamp DOUBLE PRECISION)",  # when the answer came; NULL while in flight
    "CREATE TABLE IF NOT EXISTS shotc_rate_pause ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " until DOUBLE PRECISION NOT NULL)",
)
# While another machine holds a slot in flight, its release cannot wake us: look again this
# often. (A release on this machine wakes the waiters at once.)
POLL = 0.05


class SharedSlot(Slot):
    """A slot row; `taken_at` and (once answered) `stamp` are on the server's clock."""

    __slots__ = ("id", "taken_at")

    def __init__(self, slot_id: int, taken_at: float) -> None:
        super().__init__()
        self.id = slot_id
        self.taken_at = taken_at


class SharedRateLimiter:
    """`RateLimiter`'s interface over the ledger's database (one connection of its own)."""

    def __init__(
        self,
        url: str,
        limit: int,
        period: float,
        *,
        owner: str,
        in_flight_max: float,
        connect: Any = None,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("rate limit needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self.owner = owner
        self.in_flight_max = in_flight_max
        self._cond = threading.Condition()
        self._db_lock = threading.Lock()
        # One thread per machine asks the database at a time; the others wait their turn
        # here. Without it every waiting job thread (one per scene) polls the table: 180
        # threads on 3 machines made up to ~2,100 decisions per window, each queued behind the
        # others, and the window's first slots went out ~0.1 s late.
        self._turn = threading.Lock()
        try:
            import psycopg

            self._conn: psycopg.Connection[Any] = (connect or psycopg.connect)(url, autocommit=True)
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIMITER_LOCK,))
                for statement in DDL:
                    self._conn.execute(statement)
        except Exception as exc:
            raise LocalIOError(f"the shared rate limiter: {exc}") from None

    def close(self) -> None:
        with self._db_lock:
            self._conn.close()

    # -- the interface of RateLimiter -----------------------------------------------------

    def acquire(self, stop: threading.Event | None = None) -> Slot | None:
        """Block until a request may go out on the account; None when `stop` was set."""
        while not self._turn.acquire(timeout=POLL):
            if stop is not None and stop.is_set():
                return None
        try:
            return self._acquire(stop)
        finally:
            self._turn.release()

    def _acquire(self, stop: threading.Event | None) -> Slot | None:
        while True:
            if stop is not None and stop.is_set():
                return None
            granted, wait = self._try()
            if granted is not None:
                return granted
            with self._cond:
                if stop is not None and stop.is_set():
                    return None
                self._cond.wait(timeout=max(0.001, wait))

    def release(self, slot: Slot, *, counts: bool = True) -> None:
        """As `RateLimiter.release`, on the server's clock. A failure leaves the slot in
        flight, which only makes the limiter more careful until it expires."""
        assert isinstance(slot, SharedSlot)
        try:
            with self._db_lock:
                if counts:
                    row = self._conn.execute(
                        f"UPDATE shotc_rate_slots SET stamp = {NOW} WHERE id = %s RETURNING stamp",
                        (slot.id,),
                    ).fetchone()
                    if row is not None:
                        slot.stamp = float(row[0])
                else:
                    self._conn.execute("DELETE FROM shotc_rate_slots WHERE id = %s", (slot.id,))
        except Exception:  # never mask the answer being recorded around this call
            pass
        self.wake()

    def pause(self, seconds: float) -> None:
        """After a 429: no machine sends for `seconds`."""
        try:
            with self._db_lock:
                self._conn.execute(
                    "INSERT INTO shotc_rate_pause (id, until) "
                    f"VALUES (1, {NOW} + %s) ON CONFLICT (id) DO UPDATE "
                    "SET until = GREATEST(shotc_rate_pause.until, EXCLUDED.until)",
                    (seconds,),
                )
        except Exception as exc:
            raise LocalIOError(f"the shared rate limiter: {exc}") from None
        self.wake()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- one decision ---------------------------------------------------------------------

    def _try(self) -> tuple[SharedSlot | None, float]:
        """A slot, or how long to wait before asking again."""
        try:
            with self._db_lock, self._conn.transaction():
                conn = self._conn
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIMITER_LOCK,))
                row = conn.execute(f"SELECT {NOW}").fetchone()
                assert row is not None
                now = float(row[0])
                conn.execute(
                    "DELETE FROM shotc_rate_slots WHERE "
                    "(stamp IS NOT NULL AND stamp + %s <= %s) OR "
                    "(stamp IS NULL AND taken_at + %s <= %s)",
                    (self.period, now, self.in_flight_max + self.period, now),
                )
                paused = conn.execute("SELECT until FROM shotc_rate_pause WHERE id = 1").fetchone()
                if paused is not None and now < float(paused[0]):
                    return None, float(paused[0]) - now
                slots = conn.execute("SELECT stamp, taken_at FROM shotc_rate_slots").fetchall()
                if len(slots) < self.limit:
                    new = conn.execute(
                        "INSERT INTO shotc_rate_slots (owner, taken_at) VALUES (%s, %s) "
                        "RETURNING id",
                        (self.owner, now),
                    ).fetchone()
                    assert new is not None
                    return SharedSlot(int(new[0]), now), 0.0
                answered = [float(s[0]) + self.period for s in slots if s[0] is not None]
                if len(answered) < len(slots):
                    # Some are in flight (here or elsewhere): their answer may free one soon.
                    return None, min([POLL, *(t - now for t in answered)])
                return None, min(answered) - now
        except Exception as exc:
            raise LocalIOError(f"the shared rate limiter: {exc}") from None
