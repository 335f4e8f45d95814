"""Run stage: the rules for what crosses the wire, shared by the API client and the
downloader: which URLs shotc may talk to or send (https://, loopback http://), how a
`Retry-After` is read (never raising, never absurd), and how much of an answer is read.
"""

from __future__ import annotations

import email.utils
import ipaddress
import math
import re
import time
from urllib.parse import urlsplit

import httpx

from shotc.run.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def safe_url(url: str) -> bool:
    """The one rule for every URL shotc talks to or sends: https:// with a host, or http://
    on a loopback address (a test server). Not file://, not http:// to the world."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and is_loopback(host)


def check_url(url: str, what: str) -> str:
    """Accept https://, and http:// only on loopback (the fake server); refuse the rest."""
    if safe_url(url):
        return url.rstrip("/")
    raise ConfigError(f"{what} {url!r} refused: use https:// (http:// only for loopback)")


def read_capped(resp: httpx.Response, cap: int) -> bytes | None:
    """The decoded body of a streamed response, or None when it is longer than `cap` (read
    no further: a gzip bomb or an endless answer stops at the cap)."""
    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap and "content-encoding" not in resp.headers:
        return None
    parts: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)
    return b"".join(parts)


_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (RFC 9110: delay-seconds or an HTTP date),
    or None when it is neither: the caller then uses its plain backoff. Never raises and
    never returns a negative, infinite or NaN number, whatever the server sends; the caller
    caps it (`retry_max`). A refused createTask must stay a refusal: an exception here used
    to turn an answered 429 into a POST "that may have created a task" (`unknown`)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _SECONDS.fullmatch(text):
        # Digits (RFC 9110), a decimal fraction tolerated; any length: a number too large
        # for a float becomes inf, clamped here to something every comparison handles.
        seconds = float(text)
        return min(seconds, 1e9) if math.isfinite(seconds) else 1e9
    try:
        parsed = email.utils.parsedate_to_datetime(text)
        seconds = parsed.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, min(seconds, 1e9))


__all__ = ["check_url", "is_loopback", "parse_retry_after", "read_capped", "safe_url"]
