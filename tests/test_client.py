"""Unit tests of the kie.ai client with httpx.MockTransport: every body code, the JSON-string
fields, what counts as sent, Retry-After, redaction and base-URL rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from shotc.run.client import KieClient, check_url
from shotc.run.errors import (
    AnswerLost,
    AuthError,
    ConfigError,
    NoCredits,
    NotSent,
    RateLimited,
    Redirected,
    Rejected,
    ServerError,
    Unreachable,
    redact,
)

KEY = "sk-test-0123456789abcdef"
BASE = "https://api.test"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> KieClient:
    return KieClient(
        KEY,
        api_base=BASE,
        upload_base="https://upload.test",
        transport=httpx.MockTransport(handler),
        unreachable_timeout=0.0,  # give up at the first connection failure
    )


def answer(
    body: Any, status: int = 200, **headers: str
) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body, headers=headers)


BODY = {"model": "kling-3.0/video", "input": {"prompt": "x", "duration": "5"}}


def test_create_task_sends_bearer_and_returns_task_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"code": 200, "msg": "success", "data": {"taskId": "task_1"}}
        )

    assert client(handler).create_task(BODY) == "task_1"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert seen[0].url == f"{BASE}/api/v1/jobs/createTask"
    assert json.loads(seen[0].content) == BODY


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (401, AuthError),
        (402, NoCredits),
        (433, NoCredits),
        (429, RateLimited),
        (500, ServerError),
        (455, ServerError),
        (422, Rejected),
        (404, Rejected),
        (501, Rejected),
        (505, Rejected),
    ],
)
def test_body_code_is_the_status(code: int, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        client(answer({"code": code, "msg": "m"})).create_task(BODY, scene_id="s1")
    assert "scene s1" in str(info.value)


def test_http_status_used_when_body_has_no_code() -> None:
    with pytest.raises(ServerError):
        client(answer("oops", 500)).create_task(BODY)
    with pytest.raises(RateLimited):
        client(answer("slow down", 429)).create_task(BODY)


@pytest.mark.parametrize("status", [502, 504, 520, 524])
def test_gateway_errors_on_create_are_ambiguous(status: int) -> None:
    with pytest.raises(AnswerLost):
        client(lambda r: httpx.Response(status, text="bad gateway")).create_task(BODY)
    # For a read they are just server errors, safe to repeat.
    with pytest.raises(ServerError):
        client(lambda r: httpx.Response(status, text="bad gateway")).record_info("t")


@pytest.mark.parametrize("status", [521, 522, 523])
def test_origin_unreachable_on_create_is_retryable(status: int) -> None:
    # Cloudflare could not reach kie.ai at all: nothing was created.
    with pytest.raises(ServerError):
        client(lambda r: httpx.Response(status, text="origin down")).create_task(BODY)


@pytest.mark.parametrize("status", [200, 201, 500, 503, 302])
def test_success_body_wins_over_the_http_status(status: int) -> None:
    ok = {"code": 200, "msg": "success", "data": {"taskId": "task_odd"}}
    assert client(answer(ok, status)).create_task(BODY) == "task_odd"


def test_numeric_task_id_is_kept_as_text() -> None:
    ok = {"code": 200, "msg": "success", "data": {"taskId": 1765187774173}}
    assert client(answer(ok)).create_task(BODY) == "1765187774173"
    with pytest.raises(AnswerLost):
        client(answer({"code": 200, "data": {"taskId": True}})).create_task(BODY)


@pytest.mark.parametrize(
    "key",
    [
        "sk-abc\u00e90123456",
        "sk-abc\u200b0123456",
        "sk abc0123456",
        "sk-abc\t0123456",
        "sk-abc\x7f0123456",
    ],
)
def test_key_must_be_printable_ascii_without_spaces(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        KieClient(key, api_base=BASE)
    assert "0123456" not in str(info.value) and "sk-" not in str(info.value)


def test_retry_after_is_read() -> None:
    with pytest.raises(RateLimited) as info:
        client(answer({"code": 429, "msg": "m"}, 200, **{"Retry-After": "7"})).create_task(BODY)
    assert info.value.retry_after == 7.0


def raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def test_connect_errors_are_not_sent_and_read_errors_are_lost() -> None:
    # A connection that never opened is retried by the client until unreachable_timeout
    # (0 here), then an account-wide halt: nothing was sent.
    with pytest.raises(Unreachable):
        client(raising(httpx.ConnectError("refused"))).create_task(BODY)
    with pytest.raises(Unreachable):
        client(raising(httpx.ConnectTimeout("slow"))).create_task(BODY)
    with pytest.raises(NotSent):
        client(raising(httpx.PoolTimeout("busy"))).create_task(BODY)
    with pytest.raises(AnswerLost):
        client(raising(httpx.ReadTimeout("slow"))).create_task(BODY)
    with pytest.raises(AnswerLost):
        client(raising(httpx.RemoteProtocolError("dropped"))).create_task(BODY)
    with pytest.raises(AnswerLost):
        client(raising(httpx.WriteError("broken pipe"))).create_task(BODY)


def test_success_without_task_id_or_json_is_ambiguous() -> None:
    with pytest.raises(AnswerLost):
        client(answer({"code": 200, "msg": "success", "data": {}})).create_task(BODY)
    with pytest.raises(AnswerLost):
        client(lambda r: httpx.Response(200, text="<html>")).create_task(BODY)


def test_record_info_decodes_json_strings() -> None:
    data = {
        "taskId": "t1",
        "state": "success",
        "param": json.dumps(BODY),
        "resultJson": json.dumps({"resultUrls": ["https://cdn/x.mp4"]}),
        "failCode": "",
        "failMsg": "",
        "costTime": 5000,
        "createTime": 1,
        "completeTime": 2,
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"code": 200, "msg": "success", "data": data})

    info = client(handler).record_info("t1")
    assert seen[0].url.params["taskId"] == "t1"
    assert info.state == "success" and info.param == BODY
    assert info.result_urls == ["https://cdn/x.mp4"]
    assert info.fail_code is None and info.cost_time_ms == 5000


def test_record_info_fail_and_tolerates_decoded_objects() -> None:
    data = {
        "taskId": "t1",
        "state": "fail",
        "param": BODY,
        "resultJson": None,
        "failCode": 500,
        "failMsg": "internal",
    }
    info = client(answer({"code": 200, "data": data})).record_info("t1")
    assert info.fail_code == "500" and info.fail_msg == "internal" and info.result_urls == []
    with pytest.raises(Rejected):
        client(answer({"code": 422, "msg": "recordInfo is null"})).record_info("t1")


@pytest.mark.parametrize(
    "result_json",
    [
        "",
        "{not json",
        json.dumps({"resultUrls": []}),
        json.dumps({"resultUrls": [""]}),
        json.dumps({"resultUrls": ["not a url", 7]}),
        json.dumps({"other": 1}),
    ],
)
def test_record_info_keeps_only_usable_result_urls(result_json: str) -> None:
    data = {"taskId": "t1", "state": "success", "resultJson": result_json}
    assert client(answer({"code": 200, "data": data})).record_info("t1").result_urls == []


def test_upload_streams_multipart_and_returns_download_url(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG" + b"x" * 100)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "success": True,
                "code": 200,
                "msg": "ok",
                "data": {"downloadUrl": "https://f/a.png"},
            },
        )

    url = client(handler).upload_file(
        image, upload_path="shotc", file_name="d.png", mime="image/png"
    )
    assert url == "https://f/a.png"
    request = seen[0]
    assert str(request.url) == "https://upload.test/api/file-stream-upload"
    content = request.read()
    assert b'name="uploadPath"' in content and b"shotc" in content
    assert b'filename="d.png"' in content and b"x" * 100 in content


def test_credit() -> None:
    assert client(answer({"code": 200, "msg": "success", "data": 1234})).credit() == 1234.0
    with pytest.raises(AuthError):
        client(answer({"code": 401, "msg": "no"})).credit()


def test_redirects_are_not_followed_with_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://evil.test/"})

    # Not followed, and named as what it is: every request to that base would meet it.
    with pytest.raises(Redirected, match=r"evil\.test"):
        client(handler).credit()


def test_key_is_redacted_everywhere() -> None:
    c = client(answer({"code": 200, "data": 1}))
    assert KEY not in repr(c)
    leaky = f"failure talking with Authorization: Bearer {KEY} and raw {KEY}"
    assert KEY not in redact(leaky)
    error = ServerError(f"echo {KEY}")
    assert KEY not in str(error) and KEY not in repr(error.args)


def test_base_urls() -> None:
    assert check_url("https://api.kie.ai/", "x") == "https://api.kie.ai"
    assert check_url("http://127.0.0.1:8080", "x") == "http://127.0.0.1:8080"
    assert check_url("http://localhost:1", "x") == "http://localhost:1"
    assert check_url("http://[::1]:1", "x") == "http://[::1]:1"
    for bad in ("http://example.com", "ftp://127.0.0.1", "https://", "http://10.0.0.1"):
        with pytest.raises(ConfigError):
            check_url(bad, "x")
    with pytest.raises(ConfigError):
        KieClient(KEY, api_base="http://api.kie.ai")
    with pytest.raises(ConfigError):
        KieClient("  ")
