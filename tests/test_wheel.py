"""A non-editable install ships everything the compiler needs (grammar, schema, explain
pages) and builds a script from outside the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{done.stdout}\n{done.stderr}")
    (built,) = out.glob("shotc-*.whl")
    return built


def test_wheel_contains_the_grammar_and_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "shotc/grammar/shot.lark",
        "shotc/request/request.schema.json",
        "shotc/explain/E201.md",
        "shotc/language/_generated_parser.py",
        "shotc/py.typed",
    ):
        assert needed in names, needed


def test_installed_wheel_builds_an_example(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = tmp_path / "one.shot"
    script.write_text("SCENE Warm-up\nSHOT 5s\nA dog runs.\n", "utf-8")
    probe = (
        "import shotc, sys; from shotc import grammar_path; "
        "print(shotc.__file__); print(grammar_path().is_file())"
    )
    where = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0].startswith(str(site)) and where[1] == "True"
    built = subprocess.run(
        [sys.executable, "-m", "shotc", "build", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["input"]["prompt"] == "A dog runs."
