"""Run stage: settings for `plan`/`run`/`status` and the price table, from `shotc.toml`.

The file is the one named by `--config`, else `shotc.toml` beside the first script, else
none (all defaults). Every key is optional; an unknown key or a wrong type is an error (exit
2) rather than silently ignored, since a typo in `rate_limit` could cost 429s and a typo in a
price would make `--budget` lie.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shotc.allow import CONFIG_NAME, find_config
from shotc.run.errors import ConfigError
from shotc.run.ledger_location import LEDGER_KEY, Setting, parse_setting

__all__ = ["CONFIG_NAME", "find_config"]  # their home is shotc.allow, shared with check/build

# Credits per output second (kie-api.md: std 14/20, pro 18/27, 4K 67; `_sound` with sound).
DEFAULT_PRICES: dict[str, float] = {
    "std": 14.0,
    "std_sound": 20.0,
    "pro": 18.0,
    "pro_sound": 27.0,
    "4K": 67.0,
    "4K_sound": 67.0,
}
# What one credit costs in US dollars (kie-api.md: "1 credit = 0.005 USD"); `usd_per_credit`
# under [prices] overrides it. Every dollar amount shown is credits times this: an estimate.
USD_PER_CREDIT = 0.005
USD_KEY = "usd_per_credit"

# A shared ledger: how long an owner answers for an attempt it holds without a word. A live run
# renews its leases every third of this (`ledger_claims.renew_leases`, the orchestrator's
# heartbeat), so only a dead or cut-off machine lets one pass, and a scene waits at most this
# long for another machine. `claim_lease` under [run] sets it per project.
CLAIM_LEASE = 30.0

DOWNLOAD_MAX_BYTES = 2 * 1024**3  # 2 GiB: a Kling clip is tens of MB
DOWNLOAD_DEADLINE = 1800.0


@dataclass(frozen=True, slots=True)
class RunSettings:
    rate_limit: int = 20  # new tasks per rate_period: the account's documented limit
    rate_period: float = 10.0
    poll_initial: float = 2.0  # kie.ai's advice: poll every 2-3 s, with backoff
    poll_factor: float = 1.5
    poll_max: float = 30.0
    deadline: float = 1800.0  # seconds of waiting per task, counted from when this run
    # started following it
    retries: int = 8  # further attempts after a 5xx or connection error, per request
    rate_limit_patience: float = 600.0  # keep retrying 429s for this long, per scene
    retry_base: float = 1.0
    retry_max: float = 60.0
    # A shared ledger: how long a machine answers for an attempt it holds (ledger_claims).
    claim_lease: float = CLAIM_LEASE
    upload_ttl: float = 3 * 86400.0  # kie.ai deletes uploads after 3 days
    upload_margin: float = 6 * 3600.0  # re-upload when less than this is left
    timeout_connect: float = 10.0
    timeout_read: float = 60.0
    download_workers: int = 4
    download_max_bytes: int = DOWNLOAD_MAX_BYTES  # a larger clip is refused, not stored
    download_deadline: float = DOWNLOAD_DEADLINE  # seconds per clip, reads and retries included
    unreachable_timeout: float = 120.0  # give up when kie.ai cannot be reached for this long


@dataclass(frozen=True, slots=True)
class Config:
    run: RunSettings = field(default_factory=RunSettings)
    prices: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    source: Path | None = None
    usd_per_credit: float = USD_PER_CREDIT
    ledger: Setting | None = None  # `ledger = "..."`; SHOTC_LEDGER overrides it (ledger_location)

    def price_per_second(self, mode: str, sound: bool) -> float:
        name = f"{mode}_sound" if sound else mode
        if name in self.prices:
            return self.prices[name]
        if mode in self.prices:
            return self.prices[mode]
        raise ConfigError(f"no price for mode {mode!r} (add it under [prices] in {CONFIG_NAME})")

    def estimate(self, mode: str, sound: bool, seconds: int) -> float:
        return self.price_per_second(mode, sound) * seconds


def estimate_request(config: Config, request: Mapping[str, Any]) -> tuple[str, bool, int, float]:
    """(mode, sound, seconds, credits) of a createTask body, defaults as kie.ai applies them."""
    inp = request.get("input") or {}
    mode = str(inp.get("mode", "pro"))
    multi = bool(inp.get("multi_shots", False))
    sound = bool(inp.get("sound", multi))
    seconds = int(str(inp.get("duration", "5")))
    return mode, sound, seconds, config.estimate(mode, sound, seconds)


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes itself: not a TOMLDecodeError
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    unknown = set(data) - {"run", "prices", "allow", LEDGER_KEY}  # `allow`: shotc.allow's
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    prices = _prices(path, data.get("prices", {}))
    ledger = (
        parse_setting(data[LEDGER_KEY], base=path.resolve().parent, origin=str(path))
        if LEDGER_KEY in data
        else None
    )
    return Config(
        run=_settings(path, data.get("run", {})),
        prices=prices,
        source=path,
        usd_per_credit=prices.pop(USD_KEY, USD_PER_CREDIT),
        ledger=ledger,
    )


def _settings(path: Path, table: Any) -> RunSettings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [run] must be a table")
    fields = {f.name: f for f in dataclasses.fields(RunSettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"{path}: unknown key run.{key}")
        want_int = fields[key].type in ("int", int)
        ok_type = int if want_int else (int, float)
        # Not inf or nan either (TOML has both): `retry_max = inf` would wait for ever.
        bad = isinstance(value, bool) or not isinstance(value, ok_type)
        if bad or value < 0 or not math.isfinite(value):
            kind = "a non-negative integer" if want_int else "a non-negative number"
            raise ConfigError(f"{path}: run.{key} must be {kind}")
        values[key] = value if want_int else float(value)
    settings = RunSettings(**values)
    positive = (
        "rate_limit",
        "rate_period",
        "poll_initial",
        "download_max_bytes",
        "download_deadline",
    )
    if any(getattr(settings, name) <= 0 for name in positive):
        raise ConfigError(f"{path}: {', '.join(positive)} must be positive")
    return settings


def _prices(path: Path, table: Any) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [prices] must be a table")
    prices = dict(DEFAULT_PRICES)
    for key, value in table.items():
        bad = isinstance(value, bool) or not isinstance(value, int | float)
        if bad or value < 0 or not math.isfinite(value):
            raise ConfigError(f"{path}: prices.{key} must be a non-negative number")
        prices[str(key)] = float(value)
    return prices
