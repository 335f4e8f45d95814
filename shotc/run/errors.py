"""Run stage: typed errors and key redaction.

Every failure the run stage can meet is one of these classes, so the orchestrator can decide
by type alone whether a createTask may be retried (it provably was not created), must be
recorded as `unknown` (it may have been), or stops new submissions (401/402/433). Messages pass
through `redact` so that the API key can never reach a terminal, a log or the ledger.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote, urlsplit

from shotc.exits import ExitCode

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")


def register_secret(secret: str) -> None:
    """Remember a value that must never be shown (the API key); short values are ignored
    because redacting a 1-3 character string would mangle ordinary text."""
    if len(secret) >= 4:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """Replace every registered secret and any `Bearer <token>` by `***`."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return _BEARER.sub(r"\1***", text)


_URL_PASSWORD = re.compile(r"(?i)((?:^|&)password=)[^&]*")


def redact_url(url: str) -> str:
    """A database URL as it may be shown: its password (`user:PASSWORD@host`, or a
    `password=` query parameter) replaced by `***`, everything else as written."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not even a URL: show nothing of what may be a secret
        return "***"
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = parts.netloc
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
    query = _URL_PASSWORD.sub(r"\1***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing to hide: exactly as written (urlunsplit drops an empty host's //)
    tail = (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return f"{parts.scheme}://{netloc}{parts.path}{tail}"


def url_secrets(url: str) -> list[str]:
    """The password a database URL carries, as written and decoded (for `register_secret`,
    so that a driver's message quoting it is redacted too)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    userinfo, at, _ = parts.netloc.rpartition("@")
    found = [userinfo.split(":", 1)[1]] if at and ":" in userinfo else []
    found += [m.group(0).split("=", 1)[1] for m in _URL_PASSWORD.finditer(parts.query)]
    return [s for raw in found for s in {raw, unquote(raw)} if s]


class RunError(Exception):
    """Base of the run stage's errors; `str()` is always redacted."""

    exit_code: ExitCode = ExitCode.API

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    def __str__(self) -> str:
        return redact(super().__str__())


class ConfigError(RunError):
    """A bad configuration, a missing key or a refused base URL (exit 2)."""

    exit_code = ExitCode.USAGE


class LocalIOError(RunError):
    """The ledger, a media file or the output directory failed us (exit 4)."""

    exit_code = ExitCode.IO


class MediaChanged(LocalIOError):
    """A local medium changed after the run computed its scene's key from it. Sending the new
    content under the old key would let the next run, which sees a new key, pay for the same
    request again; so the scene is not sent, and the next run plans it afresh."""


class KieError(RunError):
    """An answer (or a missing answer) from kie.ai, with who it concerned."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        scene_id: str | None = None,
        task_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.scene_id = scene_id
        self.task_id = task_id
        self.retry_after = retry_after
        where = []
        if scene_id:
            where.append(f"scene {scene_id}")
        if task_id:
            where.append(f"task {task_id}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message)


class NotSent(KieError):
    """The request never left this machine (connect error, pool timeout): always retryable."""


class RateLimited(KieError):
    """429: kie.ai refused without queueing, so nothing was created; retry after a pause."""


class ServerError(KieError):
    """A 5xx or 455 that kie.ai's application itself answered: nothing was created."""


class AnswerLost(KieError):
    """The request was sent and no usable answer came back (read timeout, dropped
    connection, a gateway that gave up). For createTask the task may exist: `unknown`."""


class Rejected(KieError):
    """kie.ai answered and refused this request (400, 404, 422, 501, 505...): not created,
    and sending the same request again would be refused again."""


class UnsafeAnswer(KieError):
    """An answer shotc will not use: a URL that is not `https://` (or loopback `http://`),
    such as an upload server answering `file:///etc/passwd`. Never sent in a paid request;
    asking again would only get the same answer, so it is not retried."""


class Halt(KieError):
    """An account-wide refusal: no new submission may go out in this run. Printed once,
    in full, when it happens; the scenes it stopped say `halt_note` instead."""

    short = "the run was halted"


class AuthError(Halt):
    """401: the key is wrong or lacks access."""

    short = "the API key was refused"


class NoCredits(Halt):
    """402 (insufficient credits) or 433 (a sub-key over its usage cap)."""

    short = "no credits left"


class Unreachable(Halt):
    """kie.ai could not be connected to for `unreachable_timeout` seconds: nothing more is
    sent in this run (a connection that never opened created nothing)."""

    short = "kie.ai unreachable"


class Redirected(Halt):
    """kie.ai (or its upload server) answered a redirect. It is not followed: the key must
    not travel to another address, and a createTask re-sent elsewhere could pay twice. Every
    request to that base would meet it, so the run stops sending."""

    short = "kie.ai answered a redirect"


def halt_note(halt: Halt) -> str:
    """What a scene stopped by an account-wide refusal says: the reason in a few words,
    pointing at the one full message printed when it happened (not once per scene)."""
    return f"not sent: {halt.short} (see above)"


RETRYABLE_FOR_CREATE: tuple[type[KieError], ...] = (NotSent, RateLimited, ServerError)
