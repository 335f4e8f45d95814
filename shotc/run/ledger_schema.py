"""Run stage: the ledger's schema, its migrations, its states and their allowed transitions.

`MIGRATIONS[i]` takes a ledger from version i to i + 1, and `PG_MIGRATIONS[i]` is the same
step in PostgreSQL's words (`shotc.run.ledger_pg` runs them). The schema version is SQLite's
`user_version`, or a row of the `shotc_meta` table in PostgreSQL. A ledger newer than this
code is refused rather than guessed at, since misreading it could mean paying twice.
"""

from __future__ import annotations

__all__ = [
    "RUNNING",
    "Download",
    "Event",
    "LastFrame",
    "Move",
    "Pick",
    "Submission",
    "Upload",
]

import re
import sqlite3
from pathlib import Path

from shotc.run.ledger_records import (
    RUNNING,
    Download,
    Event,
    LastFrame,
    Move,
    Pick,
    Submission,
    Upload,
)
from shotc.run.scene_key import version_of_canonical
from shotc.run.states import SubmissionState

V1 = """
CREATE TABLE submissions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_key     TEXT    NOT NULL,
    take          INTEGER NOT NULL,
    script        TEXT    NOT NULL,   -- relative to the ledger's project directory
    scene_id      TEXT    NOT NULL,
    film_title    TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    task_id       TEXT    UNIQUE,
    request       TEXT    NOT NULL,   -- canonical request: media digests, no upload URLs
    seconds       INTEGER NOT NULL,
    mode          TEXT    NOT NULL,
    sound         INTEGER NOT NULL,
    est_credits   REAL    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL    NOT NULL,
    submitted_at  REAL,
    updated_at    REAL    NOT NULL,
    finished_at   REAL,
    result_urls   TEXT,
    fail_code     TEXT,
    fail_msg      TEXT,
    error         TEXT,
    cost_time_ms  INTEGER
);
CREATE INDEX submissions_key ON submissions (scene_key, take, id);
CREATE INDEX submissions_scene ON submissions (script, scene_id, id);
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    at            REAL    NOT NULL,
    from_state    TEXT,
    to_state      TEXT    NOT NULL,
    detail        TEXT
);
CREATE TABLE downloads (
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    path          TEXT    NOT NULL,   -- absolute
    sha256        TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    downloaded_at REAL    NOT NULL,
    PRIMARY KEY (submission_id, path)
);
CREATE TABLE uploads (
    sha256        TEXT    PRIMARY KEY,
    url           TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    uploaded_at   REAL    NOT NULL,
    expires_at    REAL    NOT NULL
);
"""

# V2: the upload cache is keyed by content digest *and* the upload base it was sent to, since
# an upload URL from one service (a staging account, a test server) cannot be fetched by
# another. V1 rows were made before the base was recorded; an https one is filed under the
# default base, where nearly all of them came from (overrides are for testing), and is still
# checked by use: a request refused as unfetchable forgets its uploads and is sent again with
# fresh ones. A plain-http URL can only come from a loopback test server, so it goes under ''
# (no base ever normalises to that), which takes it out of use. The default base is spelled
# out because it is what V1 used, whatever the code's default becomes.
V2 = """
CREATE TABLE uploads_v2 (
    sha256        TEXT    NOT NULL,
    base          TEXT    NOT NULL,   -- the normalised KIE_UPLOAD_BASE it was uploaded to
    url           TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    uploaded_at   REAL    NOT NULL,
    expires_at    REAL    NOT NULL,
    PRIMARY KEY (sha256, base)
);
INSERT INTO uploads_v2 (sha256, base, url, name, size, uploaded_at, expires_at)
    SELECT sha256,
           CASE WHEN url LIKE 'https://%' THEN 'https://kieai.redpandaai.co' ELSE '' END,
           url, name, size, uploaded_at, expires_at
    FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_v2 RENAME TO uploads
"""

# V3: a download's path is relative to the ledger's project directory (absolute only for a
# clip written outside it, with -o), like a submission's script, so that a moved project keeps
# its clips. The step rewrites the paths under the project directory as it is when migrated
# (`:root`, bound by `migrate`; NULL matches nothing). Paths recorded before a move stay
# absolute: the downloader still recognises such a clip at its target by its digest. An
# older shotc would read these paths relative to the current directory, so it must refuse
# this ledger, which the version number does.
V3 = """
UPDATE OR REPLACE downloads SET path = substr(path, length(:root) + 2)
    WHERE substr(path, 1, length(:root) + 1) = :root || '/'
"""

# V4 (the film, film.md): each submission's version key (its scene key without the mode, see
# `scene_key.version_of_canonical`), computed for the rows already there from the canonical
# request they hold (`shotc_version`, a function `migrate` registers); the cut's picks, one
# per scene of a script, naming the version they were made for (a pick of an older version is
# kept, and reported stale); and `moves`, the journal of clip files renamed into the film
# layout: each rename is planned here before it happens and marked done after, so a crash
# between the two is finished by the next run, never lost.
V4_COLUMN = """
ALTER TABLE submissions ADD COLUMN version TEXT;"""
V4_FILL = """
UPDATE submissions SET version = shotc_version(request);"""
V4_TABLES = """
CREATE INDEX submissions_version ON submissions (script, version, id);
CREATE TABLE picks (
    script        TEXT    NOT NULL,
    scene_id      TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    take          INTEGER NOT NULL,
    mode          TEXT    NOT NULL,
    picked_at     REAL    NOT NULL,
    PRIMARY KEY (script, scene_id)
);
CREATE TABLE moves (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER REFERENCES submissions (id),
    old_path      TEXT    NOT NULL,   -- stored like a download's path
    new_path      TEXT    NOT NULL,
    planned_at    REAL    NOT NULL,
    done_at       REAL
)
"""
V4 = V4_COLUMN + V4_FILL + V4_TABLES

# V5 (continuity, language-1.1 §4): the last frames extracted from clips for
# `FIRST FRAME after`. A row is written once the PNG is on disk and before it is uploaded: the
# dependent scene's key holds the PNG's digest, so a run that crashed between the two finds
# the same frame (same digest, same key) and never pays twice for the scene.
V5 = """
CREATE TABLE last_frames (
    clip_sha256   TEXT    NOT NULL,   -- the source clip's content
    path          TEXT    NOT NULL,   -- the PNG, stored like a download's path
    sha256        TEXT    NOT NULL,   -- the PNG's content, as the dependent's key holds it
    size          INTEGER NOT NULL,
    script        TEXT    NOT NULL,
    scene_id      TEXT    NOT NULL,   -- the source scene
    made_at       REAL    NOT NULL,
    PRIMARY KEY (clip_sha256, path)
)
"""

# V6 (a ledger shared by several machines, cli.md promise 11): who holds each attempt, and
# how far it got. `owner` is the checkout that began it (`.shotc/machine-id`); `posted_at` is
# set just before its POST leaves, so an attempt without it provably created nothing (a crash
# before the POST is `not_sent`, not `unknown`); `lease_until` is how long its owner answers
# for it: past it, another machine may settle a silent owner's attempt (`not_sent` if never
# posted, `unknown` if it was) and take the scene. Rows from before V6 that were `sending` may
# have been posted, so they are marked so. The unique partial index *is* the claim: at most
# one live attempt per scene key and take, whatever the number of machines, so two that
# begin the same take at once cannot both succeed (the states it leaves out are exactly
# RESUBMITTABLE, which a test checks; none of them ever becomes live again).
V6 = """
ALTER TABLE submissions ADD COLUMN owner TEXT;
ALTER TABLE submissions ADD COLUMN posted_at REAL;
ALTER TABLE submissions ADD COLUMN lease_until REAL;
UPDATE submissions SET posted_at = updated_at WHERE state = 'sending';
CREATE UNIQUE INDEX submissions_live ON submissions (scene_key, take)
    WHERE state NOT IN ('not_sent', 'abandoned', 'fail')
"""
LIVE_INDEX_EXCLUDES = ("not_sent", "abandoned", "fail")

MIGRATIONS: list[str] = [V1, V2, V3, V4, V5, V6]
SCHEMA_VERSION = len(MIGRATIONS)


def pg_ddl(sql: str) -> str:
    """SQLite's DDL in PostgreSQL's types: 64-bit integers (sizes, nanosecond times), double
    precision, and identity keys (BY DEFAULT: a copied ledger keeps its ids)."""
    sql = sql.replace(
        "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)


# The same steps for PostgreSQL. No PostgreSQL ledger predates V5, so the steps that only
# rewrite old rows have nothing to do there: V3 (download paths made relative) is empty, and
# V4 adds the version column without filling it (`Ledger.begin` writes it for every row).
PG_MIGRATIONS: list[str] = [
    pg_ddl(V1),
    pg_ddl(V2),
    "",
    pg_ddl(V4_COLUMN + V4_TABLES),
    pg_ddl(V5),
    pg_ddl(V6),
]

# States of one submission, by their short names (the vocabulary is `SubmissionState`).
SENDING, RETRYING = SubmissionState.SENDING, SubmissionState.RETRYING
NOT_SENT, UNKNOWN = SubmissionState.NOT_SENT, SubmissionState.UNKNOWN
ABANDONED = SubmissionState.ABANDONED
WAITING, QUEUING = SubmissionState.WAITING, SubmissionState.QUEUING
GENERATING = SubmissionState.GENERATING
SUCCESS, FAIL = SubmissionState.SUCCESS, SubmissionState.FAIL

# The highest take number: takes are SQLite integers and part of file names, and nobody orders
# a thousandth take of one scene on purpose (a huge `--take` is a usage error, not an overflow).
MAX_TAKE = 999

KIE_STATES = RUNNING | {SUCCESS, FAIL}
# Latest attempt in one of these: the scene may be submitted again (nothing live, nothing paid).
RESUBMITTABLE = frozenset({NOT_SENT, ABANDONED, FAIL})

TRANSITIONS: dict[str, frozenset[str]] = {
    SENDING: frozenset({RETRYING, NOT_SENT, UNKNOWN}) | RUNNING,
    RETRYING: frozenset({SENDING, NOT_SENT}),
    # An `unknown` whose task id turns up (the recovery file of a run whose ledger failed)
    # is that task: waiting.
    UNKNOWN: frozenset({ABANDONED, WAITING}),
    WAITING: KIE_STATES,
    QUEUING: KIE_STATES,
    GENERATING: KIE_STATES,
    NOT_SENT: frozenset(),
    ABANDONED: frozenset(),
    SUCCESS: frozenset(),
    FAIL: frozenset(),
}


def migrate(conn: sqlite3.Connection, root: Path | None = None) -> int:
    """Bring the ledger to SCHEMA_VERSION, one transaction per step; the version reached.
    `root` is the ledger's project directory (what V3 makes download paths relative to).

    Raises ValueError for a ledger written by a newer shotc."""
    params = {"root": str(root) if root is not None else None}
    conn.create_function("shotc_version", 1, version_of_canonical, deterministic=True)
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"ledger schema version {version} is newer than this shotc ({SCHEMA_VERSION})"
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        # Some other program's database: adding our tables to it would hide the mistake.
        raise ValueError("a SQLite database, but not a shotc ledger (it has other tables)")
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current == version:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement, params)
                conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    return version
