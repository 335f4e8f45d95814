"""shotc: compile `.shot` shot lists into kie.ai Kling 3.0 createTask requests.

This package must stay cheap to import: `check` and `build` load only the compiler stages,
never httpx or the run machinery.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def grammar_path() -> Path:
    """`grammar/shot.lark`: shipped inside the wheel, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "grammar" / "shot.lark"
    return installed if installed.is_file() else here.parent / "grammar" / "shot.lark"
