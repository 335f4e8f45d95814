"""All benchmarks in one command: the compiler's (bench_compile.py), `run`'s (bench_run.py),
the language server's (bench_lsp.py) and `cut`'s (bench_cut.py). Prints their figures; exits
non-zero if any script fails.

Run: python benchmarks/run.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for script in ("bench_compile.py", "bench_run.py", "bench_lsp.py", "bench_cut.py"):
        print(f"== {script}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script)], check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
