"""The language server through the protocol, on a 1,000-scene script: how long after an edit
the diagnostics are published (median and p95), completion and outline latency, and the
server's peak memory. Targets (issue 10): diagnostics ≤ 50 ms median, p95 ≤ 100 ms;
completion ≤ 20 ms; outline ≤ 50 ms; memory ≤ 200 MB.

Run: python benchmarks/bench_lsp.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

SCENES = 1000
EDITS = 40


def script() -> str:
    parts = [
        "Title: Bench",
        "Mode: std",
        "",
        "ELEMENT @dog: a dog",
        "  https://x.io/a.jpg",
        "  https://x.io/b.jpg",
        "",
    ]
    for i in range(SCENES):
        parts += [
            f"SCENE Scene {i}",
            "Aspect: 16:9",
            "",
            "SHOT 3s",
            f"The @dog runs across field {i}.",
            "SHOT 2s",
            "It stops.",
            "",
        ]
    return "\n".join(parts) + "\n"


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _client_decoding(client: LanguageClient, result: object) -> float:
    """What the pygls client spends turning the outline's JSON into objects (median of 5)."""
    converter = client.protocol._converter
    raw = json.dumps({"jsonrpc": "2.0", "id": 1, "result": converter.unstructure(result)})
    times = []
    for _ in range(5):
        start = time.perf_counter()
        converter.structure(json.loads(raw), lsp.DocumentSymbolResponse)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _RawClient:
    """A bare JSON-RPC client over the server's stdio: frames bytes and parses replies with
    json.loads only, as an editor's native client does (no cattrs objects), so its timing is
    the server's reply plus the wire, without the Python client's own object building."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shotc", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0

    def send(self, method: str, params: object, *, request: bool = True) -> int:
        message: dict[str, object] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return self.next_id

    def read(self) -> dict[str, object]:
        assert self.proc.stdout is not None
        length = 0
        while (header := self.proc.stdout.readline().strip()) != b"":
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        reply: dict[str, object] = json.loads(self.proc.stdout.read(length))
        return reply

    def wait(self, *, reply_to: int | None = None, method: str | None = None) -> object:
        """The result of request `reply_to`, or the params of notification `method`."""
        while True:
            message = self.read()
            if reply_to is not None and message.get("id") == reply_to and "method" not in message:
                return message.get("result")
            if method is not None and message.get("method") == method:
                return message.get("params")

    def close(self) -> None:
        self.wait(reply_to=self.send("shutdown", None))
        self.send("exit", None, request=False)
        self.proc.wait(timeout=30)


def _raw_outline(uri: str, text: str) -> float:
    """Median outline time seen by a bare JSON client (request written to reply parsed)."""
    client = _RawClient()
    try:
        client.wait(reply_to=client.send("initialize", {"processId": None, "capabilities": {}}))
        client.send("initialized", {}, request=False)
        document = {"uri": uri, "languageId": "shot", "version": 1, "text": text}
        client.send("textDocument/didOpen", {"textDocument": document}, request=False)
        client.wait(method="textDocument/publishDiagnostics")
        times = []
        for _ in range(10):
            start = time.perf_counter()
            sent = client.send("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
            client.wait(reply_to=sent)
            times.append(time.perf_counter() - start)
        client.close()
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
            client.proc.wait(timeout=10)
    return statistics.median(times)


async def main() -> None:
    text = script()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "film.shot"
        path.write_text(text, "utf-8")
        uri = path.as_uri()
        client = LanguageClient("bench", "1")
        published: asyncio.Queue[float] = asyncio.Queue()

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def _diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            published.put_nowait(time.perf_counter())

        await client.start_io(sys.executable, "-m", "shotc", "lsp")
        await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
        client.initialized(lsp.InitializedParams())
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "shot", 1, text))
        )
        await asyncio.wait_for(published.get(), 60)
        latencies = []
        for version in range(2, 2 + EDITS):
            edited = text.replace("field 7.", f"field 7, take {version}.")
            sent = time.perf_counter()
            client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    lsp.VersionedTextDocumentIdentifier(version=version, uri=uri),
                    [lsp.TextDocumentContentChangeWholeDocument(edited)],
                )
            )
            latencies.append((await asyncio.wait_for(published.get(), 60)) - sent)
        newlines = []  # an edit that inserts a line: every scene below it moves down
        for version in range(200, 220):
            edited = text.replace("field 7.", "field 7." + "\n" * (version - 199))
            sent = time.perf_counter()
            client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    lsp.VersionedTextDocumentIdentifier(version=version, uri=uri),
                    [lsp.TextDocumentContentChangeWholeDocument(edited)],
                )
            )
            newlines.append((await asyncio.wait_for(published.get(), 60)) - sent)
        line = text.split("\n").index("The @dog runs across field 500.")
        typed = []  # completion sent right behind an edit, as typing `@` does
        for version in range(300, 320):
            edited = text.replace("field 7.", f"field 7, take {version}.")
            sent = time.perf_counter()
            client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    lsp.VersionedTextDocumentIdentifier(version=version, uri=uri),
                    [lsp.TextDocumentContentChangeWholeDocument(edited)],
                )
            )
            await client.text_document_completion_async(
                lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(line, 6))
            )
            typed.append(time.perf_counter() - sent)
            await asyncio.wait_for(published.get(), 60)
        completions, outlines = [], []
        for _ in range(30):
            start = time.perf_counter()
            await client.text_document_completion_async(
                lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), lsp.Position(line, 6))
            )
            completions.append(time.perf_counter() - start)
        for _ in range(10):
            start = time.perf_counter()
            symbols = await client.text_document_document_symbol_async(
                lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri))
            )
            outlines.append(time.perf_counter() - start)
        decoding = _client_decoding(client, symbols)
        raw_outline = _raw_outline(uri, text)
        assert client._server is not None
        memory = _peak_rss_mb(client._server.pid)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()  # type: ignore[no-untyped-call]
    ms = 1000.0
    lat = sorted(latencies)
    p95 = lat[int(0.95 * (len(lat) - 1))]
    print(
        f"lsp, {SCENES} scenes: diagnostics after an edit median "
        f"{statistics.median(lat) * ms:.1f} ms, p95 {p95 * ms:.1f} ms (targets 50, 100)"
    )
    print(
        f"lsp: completion median {statistics.median(completions) * ms:.1f} ms (target 20); "
        f"outline median {statistics.median(outlines) * ms:.1f} ms (target 50)"
    )
    print(
        f"lsp: diagnostics after an edit that inserts a line near the top median "
        f"{statistics.median(newlines) * ms:.1f} ms"
    )
    print(
        f"lsp: completion sent right after an edit median {statistics.median(typed) * ms:.1f} ms"
        " (the edit's analysis included)"
    )
    print(
        f"lsp: of the outline's time, this Python client's own decoding of the reply "
        f"(json.loads + cattrs) is {decoding * ms:.1f} ms, client side, not the server's"
    )
    print(
        f"lsp: outline through a bare JSON-RPC client (json.loads only, as an editor's "
        f"native client reads it) median {raw_outline * ms:.1f} ms (target 50)"
    )
    print(f"lsp: server peak RSS {memory:.0f} MB (target 200)")


if __name__ == "__main__":
    asyncio.run(main())
