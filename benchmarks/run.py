"""All benchmarks in one command: the compiler's (bench_compile.py), `run`'s (bench_run.py),
team runs' on a PostgreSQL ledger (bench_team.py), the language server's (bench_lsp.py),
`cut`'s (bench_cut.py) and the review page's (bench_review.py).
Prints their figures; exits non-zero if any script fails.

Run: python benchmarks/run.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    scripts = ("bench_compile", "bench_run", "bench_team", "bench_lsp", "bench_cut", "bench_review")
    for script in (f"{name}.py" for name in scripts):
        print(f"== {script}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / script)], check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
