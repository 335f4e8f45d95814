"""The run stage's vocabularies, one home each: where a submission stands in the ledger, what
`plan` says of a scene, and how a job of this run ended.

They are `StrEnum`s: a value is its own spelling in the ledger, in `--json` and on screen, so
comparing with or storing a member is the same as with the string, and a typo is a name error
that mypy sees, not a state that silently matches nothing.
"""

from __future__ import annotations

from enum import StrEnum


class SubmissionState(StrEnum):
    """One submission (one attempt at one take of one scene key), as the ledger records it."""

    SENDING = "sending"  # intent committed; a POST is (about to be) in flight
    RETRYING = "retrying"  # between attempts; every attempt so far provably created nothing
    NOT_SENT = "not_sent"  # gave up or refused before any task existed; may be sent again
    UNKNOWN = "unknown"  # a POST went out and its answer never came: the task may exist
    ABANDONED = "abandoned"  # an `unknown` the user chose to resubmit (--resubmit-unknown)
    # kie.ai's own states of a task (recordInfo's `state`)
    WAITING = "waiting"
    QUEUING = "queuing"
    GENERATING = "generating"
    SUCCESS = "success"
    FAIL = "fail"


class PlanState(StrEnum):
    """What `plan` (and the start of `run`) says of a scene's current version."""

    NEW = "new"
    CHANGED = "changed"
    DONE = "done"
    RUNNING = "running"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SENDING = "sending"
    WAITING = "waiting"  # FIRST FRAME after: the source scene's clip is not made yet
    BLOCKED = "blocked"  # FIRST FRAME after: the source scene failed


class Outcome(StrEnum):
    """How one job of this run ended, as the summary and `--json` report it."""

    DONE = "done"
    CACHED = "cached"  # already on disk (or downloaded again) without a new task
    FAILED = "failed"
    UNKNOWN = "unknown"
    REFUSED = "refused"
    NOT_SENT = "not sent"
    RUNNING = "running"  # still running when the run stopped waiting
    ERROR = "error"
    WAITING = "waiting"  # FIRST FRAME after: still waiting for the source when the run ended
    BLOCKED = "blocked"  # FIRST FRAME after: the source failed, nothing sent


# Outcomes that make `run` exit with the API code: kie.ai failed, refused or left it open
# (an `error` counts too unless it was local, which is the I/O code's business).
FAILED_OUTCOMES = frozenset(
    {Outcome.FAILED, Outcome.REFUSED, Outcome.UNKNOWN, Outcome.NOT_SENT, Outcome.BLOCKED}
)
# Outcomes shown as a success (green) on screen.
GOOD_OUTCOMES = frozenset({Outcome.DONE, Outcome.CACHED})
# The summary's order of outcome counts.
SUMMARY_ORDER: tuple[Outcome, ...] = (
    Outcome.DONE,
    Outcome.CACHED,
    Outcome.FAILED,
    Outcome.REFUSED,
    Outcome.UNKNOWN,
    Outcome.RUNNING,
    Outcome.NOT_SENT,
    Outcome.ERROR,
    Outcome.WAITING,
    Outcome.BLOCKED,
)
