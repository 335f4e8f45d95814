#!/usr/bin/env bash
# Build the VS Code extension for .shot into a .vsix, from the committed lock files.
#
#   editors/vscode/build.sh [OUTPUT.vsix]
#
# Installs the extension's runtime dependency (vscode-languageclient) and, in tools/, the build
# and test tools (@vscode/vsce, vscode-tmgrammar-test), both with `npm ci` from the npm registry
# only and with install scripts off (nothing is downloaded or compiled behind npm's back);
# runs the grammar and folding tests; then packs. tools/ is listed in .vscodeignore, so none of
# the tools goes into the .vsix. Default output: shot-language-<version>.vsix beside this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

npm_ci() { npm ci --ignore-scripts --no-audit --no-fund --loglevel=error "$@"; }

npm_ci
(cd tools && npm_ci)
(cd tools && npm run --silent test)

version="$(node -p "require('./package.json').version")"
output="${1:-$here/shot-language-$version.vsix}"
case "$output" in /*) ;; *) output="$PWD/$output" ;; esac
tools/node_modules/.bin/vsce package --allow-missing-repository --out "$output"
