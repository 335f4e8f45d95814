"""All benchmarks in one command: the compiler's (bench_compile.py) and `run`'s
(bench_run.py). Prints their figures; exits non-zero if either script fails.

Run: python benchmarks/run.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for script in ("bench_compile.py", "bench_run.py", "bench_lsp.py"):
        print(f"== {script}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script)], check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
