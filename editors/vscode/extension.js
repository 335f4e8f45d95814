'use strict';
// The VS Code client for .shot: starts `<shotc.path> lsp` (the shotc language server) over
// stdio with vscode-languageclient, restarts it when `shotc.path` changes, and folds scene,
// shot and element blocks itself so folding works before the server is up. Highlighting is
// the TextMate grammar (syntaxes/shot.tmLanguage.json); everything else comes from the server.

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
const { foldingRanges } = require('./folding');

const SELECTOR = [
  { scheme: 'file', language: 'shot' },
  { scheme: 'untitled', language: 'shot' },
];

let client;

function shotcPath() {
  const configured = vscode.workspace.getConfiguration('shotc').get('path');
  return typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'shotc';
}

async function startClient() {
  const command = shotcPath();
  const serverOptions = { command, args: ['lsp'], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: SELECTOR,
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.shot') },
  };
  client = new LanguageClient('shotc', 'shot language server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    vscode.window.showErrorMessage(
      `shot: could not start \`${command} lsp\` (${reason}). Install shotc or set "shotc.path".`
    );
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch {
      // A server that never started cannot be stopped; nothing is left to clean up.
    }
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.languages.registerFoldingRangeProvider(SELECTOR, {
      provideFoldingRanges(document) {
        const lines = [];
        for (let index = 0; index < document.lineCount; index += 1) {
          lines.push(document.lineAt(index).text);
        }
        return foldingRanges(lines).map(({ start, end }) => new vscode.FoldingRange(start, end));
      },
    }),
    vscode.commands.registerCommand('shotc.restartServer', async () => {
      await stopClient();
      await startClient();
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('shotc.path')) {
        await stopClient();
        await startClient();
      }
    }),
    { dispose: () => stopClient() }
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
