"""Test support: begin an attempt in a ledger with everything but what a test cares about
filled in (the ledger tests of both backends share it)."""

from __future__ import annotations

from typing import Any

from shotc.run.ledger import Ledger


def begin(ledger: Ledger, key: str = "k1", take: int = 1, **kw: Any) -> int:
    args: dict[str, Any] = dict(
        scene_key=key,
        take=take,
        script="film.shot",
        scene_id="a",
        film_title="F",
        request="{}",
        seconds=5,
        mode="pro",
        sound=False,
        est_credits=90.0,
    )
    args.update(kw)
    return ledger.begin(**args).id
