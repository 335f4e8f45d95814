"""Run stage: the recovery file, where what the ledger could not record waits for the next run.

When a ledger write fails during a run (disk full, I/O error), a task id kie.ai has already
answered, and so charged for, would otherwise live only in memory and in an error message.
It is printed at once and written here; `run` and `status` read this back when they open the
ledger, record those tasks (the submission row, committed before its POST, is still
`sending` or, after a crash, `unknown`) and follow them. Its one other kind of line is an
attempt stopped between its intent and its POST, which must not become `unknown`.

Where: `.shotc/recovered-tasks.txt` beside the ledger; when that cannot be written (the disk
that failed the ledger is usually the one it sits on), a file named after the ledger's path
under `$XDG_STATE_HOME/shotc/` (default `~/.local/state/shotc/`), then under the temporary
directory. All three are read back. The format is plain text, one tab-separated line per
entry, so that a user can read it and a bug report can quote it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import SENDING

RECOVERY_NAME = "recovered-tasks.txt"
NOT_SENT_MARK = "-"  # in the task id column: the POST never went out
# The run's threads save at once when the ledger fails under several answers: a read-merge-write
# must not lose the entry of another.
_SAVING = threading.Lock()
_HEADER = (
    "# shotc: tasks created (and paid for) at kie.ai that the ledger could not record.\n"
    "# Do not delete: the next `shotc run` or `shotc status` records them, then removes this.\n"
    "# task id, submission, scene key, take, scene id (tab-separated; task id - = not sent)\n"
)


@dataclass(frozen=True, slots=True)
class Entry:
    task_id: str  # NOT_SENT_MARK: the attempt stopped before its POST
    submission: int
    scene_key: str
    take: int
    scene_id: str

    @property
    def sent(self) -> bool:
        return self.task_id != NOT_SENT_MARK

    def line(self) -> str:
        fields = (self.task_id, str(self.submission), self.scene_key, str(self.take))
        # A tab or newline in the scene id would break the line: ids are slugs, but be sure.
        scene = "".join(c if c.isprintable() else "?" for c in self.scene_id)
        return "\t".join((*fields, scene)) + "\n"

    @staticmethod
    def parse(line: str) -> Entry | None:
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 5 or not parts[1].isdigit() or not parts[3].isdigit() or not parts[0]:
            return None
        return Entry(parts[0], int(parts[1]), parts[2], int(parts[3]), parts[4])


def locations(ledger_path: Path) -> list[Path]:
    """Where the recovery file of this ledger may be, in the order they are tried."""
    tag = hashlib.sha256(str(ledger_path.resolve()).encode()).hexdigest()[:16]
    name = f"recovered-tasks-{tag}.txt"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return [
        ledger_path.parent / RECOVERY_NAME,
        Path(state) / "shotc" / name,
        Path(tempfile.gettempdir()) / f"shotc-{name}",
    ]


def _trusted(path: Path) -> bool:
    """Only our own file, that nobody else may write: the temporary directory is shared, and a
    planted line would attach a stranger's task id to one of our stuck submissions."""
    try:
        st = path.lstat()
    except OSError:
        return False
    return os.path.isfile(path) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def read(ledger_path: Path) -> tuple[list[Entry], list[str]]:
    """Every entry found (in any location, once each), and the lines that did not parse."""
    entries: dict[tuple[str, int], Entry] = {}
    bad: list[str] = []
    for path in locations(ledger_path):
        if not _trusted(path):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            entry = Entry.parse(line)
            if entry is None:
                bad.append(line)
            else:
                entries.setdefault((entry.task_id, entry.submission), entry)
    return list(entries.values()), bad


def _write(path: Path, lines: Iterable[str]) -> None:
    """Atomically: a temporary file beside it, fsynced, renamed over it (0600: task ids are
    not secrets, but nobody else should edit them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(_HEADER)
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save(ledger_path: Path, new: Iterable[Entry]) -> Path | None:
    """Add entries to the recovery file (with those already in it); where it was written, or
    None when no location would take it (the caller has printed the ids already)."""
    with _SAVING:
        old, bad = read(ledger_path)
        merged = {(e.task_id, e.submission): e for e in old}
        for entry in new:
            merged.setdefault((entry.task_id, entry.submission), entry)
        return _write_first(ledger_path, [e.line() for e in merged.values()] + bad)


def _write_first(ledger_path: Path, lines: list[str]) -> Path | None:
    """Write to the first location that takes it; the others lose their (now merged) copy."""
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    written: Path | None = None
    for path in locations(ledger_path):
        if written is None:
            try:
                _write(path, lines)
            except OSError:
                continue
            written = path
        elif _trusted(path):
            with contextlib.suppress(OSError):
                path.unlink()
    return written


def _clear(ledger_path: Path, keep: list[str]) -> None:
    """Leave only `keep` (lines not recorded); no file at all when nothing is left."""
    if keep:
        _write_first(ledger_path, keep)
        return
    for path in locations(ledger_path):
        if _trusted(path):
            with contextlib.suppress(OSError):
                path.unlink()


def apply(ledger: Ledger, warn: Callable[[str], None]) -> list[Entry]:
    """Record every entry of this ledger's recovery file (call with the run lock held, before
    `recover()` turns `sending` rows into `unknown`); the entries recorded. Entries the
    ledger will not take (it has moved on, or holds another id) stay in the file, with a
    warning; a ledger that still cannot be written raises LocalIOError and keeps the file."""
    entries, bad = read(ledger.path)
    if not entries and not bad:
        return []
    done: list[Entry] = []
    keep = list(bad)
    for entry in entries:
        if entry.sent:
            try:
                ok = ledger.adopt(
                    entry.submission, entry.task_id, scene_key=entry.scene_key, take=entry.take
                )
            except LocalIOError as exc:
                if ledger.failed is not None:
                    raise
                warn(f"recovered task {entry.task_id} could not be recorded: {exc}")
                ok = False
        else:
            ok = _not_sent(ledger, entry)
        if ok:
            done.append(entry)
        else:
            keep.append(entry.line())
            if entry.sent:
                warn(
                    f"recovered task {entry.task_id} (scene {entry.scene_id}) does not match "
                    f"the ledger's submission {entry.submission}: kept in the recovery file"
                )
    _clear(ledger.path, keep)
    return done


def _not_sent(ledger: Ledger, entry: Entry) -> bool:
    """An attempt stopped before its POST: `not_sent` if the row still waits for its answer
    (else it has moved on, and the line has nothing left to say)."""
    try:
        sub = ledger.get(entry.submission)
    except LocalIOError:
        return True
    if sub.scene_key == entry.scene_key and sub.state == SENDING and sub.task_id is None:
        ledger.not_sent(entry.submission, "stopped before its POST (recovered)")
    return True
