"""Sources from a hostile or unlucky file system (issue 7): FIFOs, devices, directories and huge
files are refused without blocking or reading more than the limit; includes reached by many
paths are expanded once each, with language.md §7's precedence and order kept exactly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shotc.language.source as source
from shotc.language.compiler import ScriptReadError, _Session, compile_paths
from shotc.language.source import MAX_SOURCE_BYTES, SourceError, read_bytes

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
TIMEOUT = 60  # seconds for a CLI run: a regression here is a hang, not a failure


def shotc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shotc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def codes(path: Path) -> list[tuple[str | None, int]]:
    return [(d.code, d.span.line) for d in compile_paths([path], for_build=False).diagnostics]


# -- not a regular file ---------------------------------------------------------------------


@needs_fifo
def test_include_of_a_fifo_or_a_device_is_e404_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.shot")  # no writer: opening it for reading would block
    (tmp_path / "film.shot").write_text(
        "INCLUDE pipe.shot\nINCLUDE /dev/zero\n\nSHOT 5s\nThe dog runs.\n", "utf-8"
    )
    result = shotc("check", "--format", "json", "film.shot", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert [line.count('"E404"') for line in result.stdout.splitlines()] == [1, 1]
    assert result.stdout.count("not a regular file") == 2


@needs_fifo
@pytest.mark.parametrize("command", ["check", "build", "fmt", "validate", "decompile"])
def test_a_fifo_or_device_on_the_command_line_is_exit_4(tmp_path: Path, command: str) -> None:
    os.mkfifo(tmp_path / "pipe.shot")
    for target in ("pipe.shot", "/dev/zero"):
        result = shotc(command, target, cwd=tmp_path)
        assert result.returncode == 4, (target, result.stderr)
        assert result.stderr.strip().splitlines() == [
            f"shotc: cannot read {target}: not a regular file "
            f"({'a named pipe' if target == 'pipe.shot' else 'a device'})"
        ]
        assert "Traceback" not in result.stderr


def test_a_directory_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is a directory"):
        read_bytes(tmp_path)


# -- the size limit -------------------------------------------------------------------------


def test_a_source_at_the_limit_is_read_and_one_byte_more_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source, "MAX_SOURCE_BYTES", 100)
    path = tmp_path / "film.shot"
    path.write_bytes(b"x" * 100)
    assert read_bytes(path) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(SourceError, match="larger than 64 MiB"):
        read_bytes(path)


def test_a_huge_file_is_refused_having_read_only_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source, "MAX_SOURCE_BYTES", 1000)
    path = tmp_path / "huge.shot"
    with open(path, "wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse: 8 GiB of nothing on disk
    tracemalloc.start()
    try:
        with pytest.raises(SourceError):
            read_bytes(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_the_real_limit_is_64_mib_and_an_included_huge_file_is_e404(tmp_path: Path) -> None:
    assert MAX_SOURCE_BYTES == 64 * 1024 * 1024
    with open(tmp_path / "cast.shot", "wb") as handle:
        handle.truncate(MAX_SOURCE_BYTES + 1)
    film = tmp_path / "film.shot"
    film.write_text("INCLUDE cast.shot\n\nSHOT 5s\nThe dog runs.\n", "utf-8")
    result = compile_paths([film], for_build=False)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E404", 1)]
    assert "64 MiB" in result.diagnostics[0].message
    with pytest.raises(ScriptReadError, match="64 MiB"):
        compile_paths([tmp_path / "cast.shot"], for_build=False)


def test_invalid_utf8_in_an_include_is_e404_at_the_include(tmp_path: Path) -> None:
    (tmp_path / "cast.shot").write_bytes(b"Mode: std\ncaf\xe9\n")
    film = tmp_path / "film.shot"
    film.write_text("Title: x\nINCLUDE cast.shot\n\nSHOT 5s\nThe dog runs.\n", "utf-8")
    result = compile_paths([film], for_build=False)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E404", 2)]
    assert "byte 0xe9 on line 2" in result.diagnostics[0].message


# -- includes reached by many paths ----------------------------------------------------------


def _diamond(root: Path, depth: int) -> Path:
    """Two files per level, each including both files of the next: 2^depth paths."""
    for level in range(depth):
        below = (
            f"INCLUDE l{level + 1}a.shot\nINCLUDE l{level + 1}b.shot\n" if level + 1 < depth else ""
        )
        for side, mode in (("a", "std"), ("b", "pro")):
            (root / f"l{level}{side}.shot").write_text(
                f"{below}Mode: {mode}\n\nELEMENT @e{level}{side}: thing {level}{side}\n"
                "  https://x.test/1.png\n  https://x.test/2.png\n",
                "utf-8",
            )
    film = root / "film.shot"
    film.write_text(
        "INCLUDE l0a.shot\nINCLUDE l0b.shot\n\nSHOT 5s\nThe @e0a and the @e24b meet.\n", "utf-8"
    )
    return film


def test_a_diamond_25_deep_expands_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    film = _diamond(tmp_path, 25)
    calls: list[Path] = []
    original = _Session.expand

    def counting(self: _Session, key: Path, *args: object) -> object:
        calls.append(key)
        return original(self, key, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(_Session, "expand", counting)
    result = compile_paths([film], for_build=True)
    assert result.ok, result.diagnostics
    assert len(calls) == 51 and len(set(calls)) == 51  # the film and 50 libraries, once each
    body = result.scenes[0].request["input"]
    assert body["mode"] == "pro"  # the later INCLUDE (l0b, pro) wins over the earlier
    assert [e["name"] for e in body["kling_elements"]] == ["e0a", "e24b"]


def test_diagnostics_of_a_file_reached_twice_are_reported_once(tmp_path: Path) -> None:
    (tmp_path / "shared.shot").write_text("Mode: fast\nColour: red\n", "utf-8")
    (tmp_path / "a.shot").write_text("INCLUDE shared.shot\n", "utf-8")
    (tmp_path / "b.shot").write_text("INCLUDE shared.shot\nINCLUDE missing.shot\n", "utf-8")
    film = tmp_path / "film.shot"
    film.write_text("INCLUDE a.shot\nINCLUDE b.shot\nINCLUDE a.shot\n\nSHOT 5s\nx\n", "utf-8")
    found = [
        (d.code, Path(d.span.file).name, d.span.line)
        for d in compile_paths([film], for_build=False).diagnostics
    ]
    assert sorted(found) == sorted(
        [("E207", "shared.shot", 1), ("E206", "shared.shot", 2), ("E404", "b.shot", 2)]
    )


# A reference model of language.md §7, written from the spec and exponential on purpose: every
# INCLUDE is expanded again. Settings: includes in order, later over earlier, then the file's
# own. Elements: every file's declarations in walk order, a declaration seen again ignored.
_Files = dict[int, tuple[list[int], str, list[str], bool]]


def _reference(files: _Files, node: int) -> tuple[dict[str, str], list[tuple[int, str]]]:
    includes, mode, names, own_first = files[node]
    settings: dict[str, str] = {}
    own = [(node, name) for name in names]
    elements: list[tuple[int, str]] = list(own) if own_first else []
    for target in includes:  # in line order with the file's own elements
        sub_settings, sub_elements = _reference(files, target)
        settings.update(sub_settings)
        elements += sub_elements
    elements += [] if own_first else own
    if mode:
        settings["mode"] = mode
    return settings, elements


_dags = st.integers(min_value=2, max_value=7).flatmap(
    lambda n: st.tuples(
        *[
            st.tuples(
                st.lists(st.integers(min_value=i + 1, max_value=n - 1), max_size=3)
                if i < n - 1
                else st.just([]),
                st.sampled_from(["", "std", "pro"]),
                st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=2, unique=True),
                st.booleans(),  # the file's elements above its INCLUDEs
            )
            for i in range(n)
        ]
    )
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dag=_dags)
def test_includes_follow_the_spec_on_any_acyclic_graph(
    tmp_path: Path, dag: tuple[tuple[list[int], str, list[str], bool], ...]
) -> None:
    """Settings precedence and the element order (seen through E202, which points at the later
    of two declarations of one name) match the reference model on random include graphs."""
    files: _Files = {
        i: (list(inc), mode, list(names), first) for i, (inc, mode, names, first) in enumerate(dag)
    }
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis reuses tmp_path
    for i, (includes, mode, names, own_first) in files.items():
        declarations: list[str] = []
        for name in names:
            declarations += [
                f"ELEMENT @{name}: thing",
                "  https://x.test/1.png",
                "  https://x.test/2.png",
                "",
            ]
        lines = [f"Mode: {mode}"] if mode else []
        lines += [f"INCLUDE f{t}.shot" for t in includes] + [""]
        lines = declarations + lines if own_first else lines + declarations
        if i == 0:
            lines += ["", "SHOT 5s", "The scene" + "".join(f" @{n}" for n in "abcd") + "."]
        (folder / f"f{i}.shot").write_text("\n".join(lines) + "\n", "utf-8")
    settings_want, elements = _reference(files, 0)
    first: dict[str, int] = {}
    twice: set[tuple[str, str]] = set()
    seen: set[tuple[int, str]] = set()
    for node, name in elements:
        if (node, name) in seen:
            continue
        seen.add((node, name))
        if name in first:
            twice.add((f"f{node}.shot", name))
        else:
            first[name] = node
    result = compile_paths([folder / "f0.shot"], for_build=False)
    e202 = {
        (Path(d.span.file).name, d.message.split("`@")[1].split("`")[0])
        for d in result.diagnostics
        if d.code == "E202"
    }
    assert e202 == twice
    if result.scenes:
        assert result.scenes[0].request["input"]["mode"] == settings_want.get("mode", "std")
    undeclared = {d.message for d in result.diagnostics if d.code == "E201"}
    assert len(undeclared) == 4 - len(first)
