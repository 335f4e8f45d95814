"""The VS Code extension (editors/vscode): its manifest and grammar agree (always run), and,
where npm is on the machine, its grammar tests, client tests and `.vsix` build pass through
the one documented command, `editors/vscode/build.sh` (npm ci from the committed lock files)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "shot.tmLanguage.json"
BUILD_TIMEOUT = 540  # seconds: two `npm ci` from the registry, the tests and vsce


def _json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every rule (dict) of a grammar, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_manifest_and_grammar_are_consistent() -> None:
    manifest = _json(EXTENSION / "package.json")
    grammar = _json(GRAMMAR)
    _json(EXTENSION / "language-configuration.json")
    _json(EXTENSION / "tools" / "package.json")

    (language,) = manifest["contributes"]["languages"]
    (contributed,) = manifest["contributes"]["grammars"]
    assert language["id"] == contributed["language"] == "shot"
    assert language["extensions"] == [".shot"]
    assert (EXTENSION / language["configuration"]).is_file()
    assert (EXTENSION / contributed["path"]).resolve() == GRAMMAR
    assert contributed["scopeName"] == grammar["scopeName"] == "source.shot"
    assert "onLanguage:shot" in manifest["activationEvents"]
    assert (EXTENSION / manifest["main"]).is_file()
    assert "shotc.path" in manifest["contributes"]["configuration"]["properties"]
    # vsce and the grammar tester live in tools/, never in the extension's own dependencies.
    assert set(manifest.get("dependencies", {})) == {"vscode-languageclient"}
    assert "devDependencies" not in manifest

    repository = grammar["repository"]
    rules = _walk(grammar)
    for rule in rules:
        include = rule.get("include")
        if isinstance(include, str) and include.startswith("#"):
            assert include[1:] in repository, include
        for key in ("name", "contentName"):
            if rule is not grammar and isinstance(rule.get(key), str):
                assert rule[key].endswith(".shot"), rule[key]
        for key in ("match", "begin", "end"):
            if isinstance(rule.get(key), str):
                assert rule[key], key

    # Every scope a sample file asserts is one the grammar can give.
    scopes = {rule[key] for rule in rules for key in ("name", "contentName") if key in rule}
    scopes -= {grammar["name"]}
    scopes.add("source.shot")
    samples = sorted((EXTENSION / "test").glob("*.shot"))
    assert samples
    for sample in samples:
        lines = sample.read_text("utf-8").splitlines()
        assert lines[0].startswith('# SYNTAX TEST "source.shot"')
        for line in lines[1:]:
            assertion = re.match(r"#\s*(?:\^+|<-+)\s+(.*)$", line)
            if assertion is None:
                continue
            for scope in assertion.group(1).replace(" - ", " ").split():
                if scope != "-":
                    assert scope in scopes, f"{sample.name}: {scope}"


def test_lock_files_are_committed_and_node_modules_ignored() -> None:
    assert (EXTENSION / "package-lock.json").is_file()
    assert (EXTENSION / "tools" / "package-lock.json").is_file()
    ignored = (EXTENSION / ".vscodeignore").read_text("utf-8").split()
    assert "tools/**" in ignored and "test/**" in ignored


@pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None,
    reason="npm and node are not on PATH: the grammar tests and the .vsix build need them",
)
def test_build_runs_grammar_tests_and_packs_a_vsix(tmp_path: Path) -> None:
    target = tmp_path / "shot.vsix"
    try:
        done = subprocess.run(
            ["bash", str(EXTENSION / "build.sh"), str(target)],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"build.sh took more than {BUILD_TIMEOUT} s")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "run successfuly" in done.stdout  # the grammar tester's word for each sample
    assert re.search(r"^# fail 0$", done.stdout, re.MULTILINE)  # the client and folding tests
    with zipfile.ZipFile(target) as vsix:
        names = set(vsix.namelist())
    for packed in (
        "extension/package.json",
        "extension/extension.js",
        "extension/folding.js",
        "extension/syntaxes/shot.tmLanguage.json",
        "extension/language-configuration.json",
        "extension/node_modules/vscode-languageclient/package.json",
    ):
        assert packed in names
    assert not any(name.startswith(("extension/tools/", "extension/test/")) for name in names)
    assert not any("/vsce/" in name or "tmgrammar" in name for name in names)
