"""`shotc prune`'s decisions (shotc.film.prune): only files the ledger recorded, never one the
cut or a current take uses, older versions only with --older, never a file changed since."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from shotc.film.prune import KnownFile, apply_prune, plan_prune


def known(path: Path, data: bytes, *, current: bool, scene: str = "s1", take: int = 1) -> KnownFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    st = path.stat()
    digest = hashlib.sha256(data).hexdigest()
    return KnownFile(path, digest, st.st_size, st.st_mtime_ns, scene, take, "std", current)


def test_keeps_needed_deletes_stale_and_older_only_when_asked(tmp_path: Path) -> None:
    cut = known(tmp_path / "s1" / "take-1.mp4", b"cut", current=True)
    take2 = known(tmp_path / "s1" / "take-2.mp4", b"take 2", current=True, take=2)
    aside = known(tmp_path / "s1" / "take-2.aside.mp4", b"take 2", current=True, take=2)
    old = known(tmp_path / "s1" / "older" / "abcd1234-take-1.std.mp4", b"old!", current=False)
    gone = KnownFile(tmp_path / "s1" / "never.mp4", "0" * 64, 3, 0, "s1", 3, "std", True)
    files = [cut, take2, aside, old, gone]
    keep = {cut.path, take2.path}

    plan = plan_prune(files, keep, older=False)
    assert [d.path for d in plan.delete] == [aside.path]
    assert plan.delete[0].kind == "stale" and plan.bytes == len(b"take 2")
    assert plan.kept == 2

    plan = plan_prune(files, keep, older=True)
    assert sorted(d.path for d in plan.delete) == sorted([aside.path, old.path])
    assert {d.path: d.kind for d in plan.delete}[old.path] == "older"
    deleted, failed = apply_prune(plan)
    assert failed == [] and len(deleted) == 2
    assert cut.path.exists() and take2.path.exists()
    assert not aside.path.exists() and not old.path.exists()


def test_a_file_changed_since_its_download_is_left_alone(tmp_path: Path) -> None:
    old = known(tmp_path / "older" / "a-take-1.std.mp4", b"recorded", current=False)
    old.path.write_bytes(b"the user's own")
    os.utime(old.path, ns=(old.mtime_ns + 10**9, old.mtime_ns + 10**9))
    plan = plan_prune([old], set(), older=True)
    assert plan.delete == ()
    assert [s.path for s in plan.skipped] == [old.path]
    # same bytes, only touched: still the recorded file (checked by digest)
    same = known(tmp_path / "older" / "b-take-1.std.mp4", b"recorded", current=False)
    os.utime(same.path, ns=(same.mtime_ns + 10**9, same.mtime_ns + 10**9))
    assert [d.path for d in plan_prune([same], set(), older=True).delete] == [same.path]


def test_a_symlink_at_a_recorded_path_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious.mp4"
    target.write_bytes(b"mine")
    link = tmp_path / "older" / "x-take-1.std.mp4"
    link.parent.mkdir()
    link.symlink_to(target)
    record = KnownFile(link, hashlib.sha256(b"mine").hexdigest(), 4, 0, "s1", 1, "std", False)
    assert plan_prune([record], set(), older=True).delete == ()
    assert target.exists()
