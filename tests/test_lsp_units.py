"""The language server's parts without the protocol: positions, features on arbitrary text
(hypothesis: nothing raises), the import boundary, and `check --watch`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from test_robustness import FRAGMENTS

from shotc.language.settings import KEYS
from shotc.lsp import features, outline
from shotc.lsp.analysis import analyse
from shotc.lsp.positions import Position, PositionMap

_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40).map(
    "".join
)


def test_positions_follow_lsp_line_breaks_and_utf16() -> None:
    # the compiler sees one line "a\rb"; LSP sees two; "😀" is two UTF-16 units
    text = "a\rb😀c\nnext\r\nlast"
    pm = PositionMap(text)
    assert pm.lsp_of(1, 3) == Position(1, 0)  # `b`: after the lone CR, on LSP line 1
    assert pm.lsp_of(1, 5) == Position(1, 3)  # `c`: after the astral character
    assert pm.lsp_of(2, 1) == Position(2, 0)
    assert pm.lsp_of(3, 1) == Position(3, 0)  # CRLF is one break
    assert pm.offset_at(Position(1, 3)) == text.index("c")
    assert PositionMap(text, "utf-32").lsp_of(1, 5) == Position(1, 2)


@settings(max_examples=150, deadline=None)
@given(_text, st.integers(0, 30), st.integers(0, 40))
def test_features_never_raise(
    tmp_path_factory: pytest.TempPathFactory, text: str, line: int, char: int
) -> None:
    path = Path("/nonexistent-shotc-dir/film.shot")
    analysis = analyse(path, text)
    position = lsp.Position(line, char)
    features.diagnostics(analysis)
    features.completion(analysis, position)
    features.hover(analysis, position)
    features.definition(analysis, position)
    outline.document_symbols(analysis)
    outline.folding_ranges(analysis)
    outline.formatting(analysis)
    outline.code_actions(analysis, path.as_uri(), lsp.Range(position, position))


def test_every_setting_has_hover_help() -> None:
    assert {k.lower() for k in KEYS} <= set(features.SETTING_HELP)


def test_check_and_build_do_not_import_the_language_server(tmp_path: Path) -> None:
    script = tmp_path / "a.shot"
    script.write_text("SHOT 5s\nA dog runs.\n", "utf-8")
    for command in ("check", "build"):
        probe = (
            "import sys\nfrom shotc.cli import main\n"
            f"try:\n    main([{command!r}, {str(script)!r}])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')"
            " or m.startswith('shotc.lsp')), file=sys.stderr)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


def _read_until(stream: object, wanted: str, deadline: float) -> str:
    import select

    seen = ""
    fd = stream.fileno()  # type: ignore[attr-defined]
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {wanted!r}; saw {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536).decode("utf-8", "replace")
            assert chunk, f"process ended; saw {seen!r}"
            seen += chunk
    return seen


def test_check_watch_rechecks_when_an_include_is_saved(tmp_path: Path) -> None:
    (tmp_path / "cast.shot").write_text(
        "ELEMENT @dog: a dog\n  https://x.io/d.jpg\n  https://x.io/e.jpg\n", "utf-8"
    )
    film = tmp_path / "film.shot"
    film.write_text("INCLUDE cast.shot\nAspect: 16:9\n\nSHOT 5s\nThe @dog runs.\n", "utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "shotc", "check", "--watch", str(film)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        first = _read_until(proc.stderr, "(Ctrl-C to stop)", deadline)
        assert "error" not in first and "cast.shot" in first
        time.sleep(0.05)
        (tmp_path / "cast.shot").write_text(
            "ELEMENT @cat: a cat\n  https://x.io/c.jpg\n  https://x.io/e.jpg\n", "utf-8"
        )
        second = _read_until(proc.stderr, "E201", deadline)
        assert "@dog" in second
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
