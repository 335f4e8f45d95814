"""Benchmark of the review page (`shotc review`): a 100-scene project with 300 takes (Takes: 3),
made by a real `shotc run` against the fake kie.ai of the tests (real small MP4s), served by a
real `shotc review` process and opened in headless Chromium (Debian's, through Playwright:
nothing downloaded).

Prints the time to first paint (First Contentful Paint, from navigation start) and to the
page being interactive (every scene rendered, DOMContentLoaded), best and median of a few
loads, and what one `/api/project` poll costs the server (the loader runs per request).
Target: first paint under 1 s.

Usage: python benchmarks/bench_review.py [--scenes N] [--takes K] [--loads L]. Exits 1 when
the target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakekie import FakeKie  # noqa: E402
from fakekie.clips import result_clip  # noqa: E402

TARGET_S = 1.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
CONFIG = """\
[run]
poll_initial = 0.05
poll_max = 0.2
retry_base = 0.01
retry_max = 0.2
rate_limit = 1000
rate_period = 1.0
"""


def write_script(root: Path, scenes: int, takes: int) -> Path:
    (root / "shotc.toml").write_text(CONFIG)
    parts = [f"Title: Review bench\nMode: std\nTakes: {takes}\n"]
    for i in range(1, scenes + 1):
        parts.append(
            f"SCENE Scene {i}\n\nSHOT 3s\nA wide shot of the harbour, boat number {i} leaves."
            f"\n\nSHOT 2s\nA close shot of @captain at the wheel, scene {i}.\n"
        )
    parts.insert(1, "ELEMENT @captain: the captain\n  https://example.com/captain.png\n")
    script = root / "film.shot"
    script.write_text("\n".join(parts))
    return script


def shotc(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shotc", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--takes", type=int, default=3)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, FakeKie() as kie:
        root = Path(tmp)
        kie.result_file = result_clip
        write_script(root, args.scenes, args.takes)
        started = time.perf_counter()
        made = shotc(["run", "film.shot"], root, kie.env())
        if made.returncode != 0:
            print(made.stdout[-2000:], made.stderr[-2000:], sep="\n")
            return 1
        run_s = time.perf_counter() - started
        server = subprocess.Popen(
            [sys.executable, "-m", "shotc", "review", "film.shot"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            if not url.startswith("http://127.0.0.1:"):
                print("review did not start:", url, server.stderr.read() if server.stderr else "")
                return 1
            polls = []
            for _ in range(5):
                t = time.perf_counter()
                with urllib.request.urlopen(url + "api/project", timeout=30) as answer:
                    size = len(answer.read())
                polls.append(time.perf_counter() - t)
                time.sleep(0.6)  # past the server's model cache: each poll runs the loader
            paints, ready = [], []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    for _ in range(args.loads):
                        page = browser.new_page(viewport={"width": 1280, "height": 900})
                        page.goto(url, wait_until="domcontentloaded")
                        page.wait_for_function(
                            f"document.querySelectorAll('section.scene').length === {args.scenes}"
                        )
                        timing = page.evaluate(
                            "() => ({fcp: (performance.getEntriesByName("
                            "'first-contentful-paint')[0] || {}).startTime, dcl: "
                            "performance.getEntriesByType('navigation')[0]"
                            ".domContentLoadedEventEnd})"
                        )
                        takes = page.locator("figure.take").count()
                        paints.append(float(timing["fcp"]) / 1000)
                        ready.append(float(timing["dcl"]) / 1000)
                        page.close()
                finally:
                    browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    best = min(paints)
    print(
        f"project                {args.scenes} scenes, {takes} takes on the page "
        f"(run made them in {run_s:.1f} s)"
    )
    print(
        f"/api/project           {size / 1e3:.0f} kB, {min(polls) * 1000:.0f} ms best, "
        f"{statistics.median(polls) * 1000:.0f} ms median (loader: script + ledger)"
    )
    print(
        f"first paint            {best * 1000:.0f} ms best, {statistics.median(paints) * 1000:.0f}"
        f" ms median of {len(paints)}  (target < {TARGET_S * 1000:.0f} ms)"
    )
    print(
        f"DOMContentLoaded       {min(ready) * 1000:.0f} ms best, "
        f"{statistics.median(ready) * 1000:.0f} ms median"
    )
    ok = statistics.median(paints) < TARGET_S and takes == args.scenes * args.takes
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
