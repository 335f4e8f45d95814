"""Run stage: the ledger's records, as read back from its tables (one dataclass per table).

`shotc.run.ledger_schema` defines the tables and re-exports these; a record's fields are its
table's columns, so a column added by a migration is a field added here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shotc.run.ledger_db import Row
from shotc.run.states import SubmissionState

# Running at kie.ai (ledger_schema re-exports it with the other state sets).
RUNNING = frozenset({SubmissionState.WAITING, SubmissionState.QUEUING, SubmissionState.GENERATING})
SUCCESS = SubmissionState.SUCCESS


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    scene_key: str
    take: int
    script: str
    scene_id: str
    film_title: str
    state: str
    task_id: str | None
    request: str
    seconds: int
    mode: str
    sound: bool
    est_credits: float
    attempts: int
    created_at: float
    submitted_at: float | None
    updated_at: float
    finished_at: float | None
    result_urls: tuple[str, ...]
    fail_code: str | None
    fail_msg: str | None
    error: str | None
    cost_time_ms: int | None
    version: str | None = None  # the version key (V4); None only in a row built by hand
    owner: str | None = None  # the checkout that began it (V6); None: before V6
    posted_at: float | None = None  # its POST left (V6); None: provably not sent
    lease_until: float | None = None  # its owner answers for it until then (V6)

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def awaiting_result(self) -> bool:
        """`success` recorded without a result URL (by an older shotc that took kie.ai's word
        before resultJson was filled in): the clip is paid for, so recordInfo is asked again."""
        return self.state == SUCCESS and not self.result_urls

    @property
    def unsettled(self) -> bool:
        """Worth asking recordInfo about: still running, or finished without a URL yet."""
        return self.running or self.awaiting_result

    @property
    def being_sent(self) -> bool:
        """An attempt with no task id yet whose owner is still at it (intent, POST or retry
        wait): on a shared ledger, another machine's to finish."""
        return self.task_id is None and self.state in (
            SubmissionState.SENDING,
            SubmissionState.RETRYING,
        )

    @staticmethod
    def from_row(row: Row) -> Submission:
        d: dict[str, Any] = dict(row)
        d["sound"] = bool(d["sound"])
        d["result_urls"] = tuple(json.loads(d["result_urls"])) if d["result_urls"] else ()
        return Submission(**d)


@dataclass(frozen=True, slots=True)
class Download:
    submission_id: int
    path: str  # absolute (the ledger stores it relative to the project directory)
    sha256: str
    size: int
    mtime_ns: int
    downloaded_at: float


@dataclass(frozen=True, slots=True)
class Pick:
    """The take the cut uses for one scene of a script (`shotc pick`, the review page)."""

    script: str
    scene_id: str
    version: str
    take: int
    mode: str
    picked_at: float


@dataclass(frozen=True, slots=True)
class Move:
    """One rename of a clip into the film layout, planned before it happens."""

    id: int
    submission_id: int | None
    old_path: str  # absolute
    new_path: str  # absolute
    planned_at: float
    done_at: float | None


@dataclass(frozen=True, slots=True)
class Upload:
    sha256: str
    base: str  # normalised upload base (see uploads.normalise_base)
    url: str
    name: str
    size: int
    uploaded_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Event:
    submission_id: int
    at: float
    from_state: str | None
    to_state: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class LastFrame:
    """The last frame of a clip, written as a PNG for `FIRST FRAME after` (V5)."""

    clip_sha256: str
    path: str  # absolute (stored relative to the project directory)
    sha256: str
    size: int
    script: str
    scene_id: str
    made_at: float
