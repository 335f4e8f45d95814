"""The one decision about a terminal: whether to colour a stream and whether to redraw a live
display on it. Used by the diagnostic renderer, `validate`/`decompile` and `run`'s progress.

Colour: `NO_COLOR` (set and not empty, https://no-color.org) turns it off; else `FORCE_COLOR`
(set and not empty) turns it on, even into a pipe; else only a terminal that is not `TERM=dumb`
gets it. A live display (redrawn in place) needs a real terminal that is not `TERM=dumb`:
`FORCE_COLOR` colours a log but never makes it a screen to redraw.
"""

from __future__ import annotations

import os
from typing import IO, Any


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def interactive(stream: IO[Any]) -> bool:
    """Whether `stream` is a terminal worth redrawing in place."""
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def use_colour(stream: IO[Any]) -> bool:
    """Whether to write ANSI colours to `stream`."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return interactive(stream)
