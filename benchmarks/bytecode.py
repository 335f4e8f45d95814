"""Benchmarks' shared step: compile shotc's bytecode first, so a benchmark measures a user's
installed package (pip writes bytecode for a non-editable install), not Python compiling the
sources on every start (as under PYTHONDONTWRITEBYTECODE, which this machine sets)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "shotc"


def compile_package() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PACKAGE)], check=False)
