'use strict';
// node --test: extension.js with fake `vscode` and `vscode-languageclient/node` modules: it
// starts `<shotc.path> lsp` over stdio for .shot documents and restarts on a path change.
const test = require('node:test');
const assert = require('node:assert');
const Module = require('node:module');

const started = [];
const stopped = [];
let configuredPath = '/opt/film/.venv/bin/shotc';
let onConfigChange;
const registered = {};

class FakeClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions });
  }
  async start() {
    started.push(this);
  }
  async stop() {
    stopped.push(this);
  }
}

const fakeVscode = {
  workspace: {
    getConfiguration: (section) => ({ get: (key) => (section === 'shotc' && key === 'path' ? configuredPath : undefined) }),
    createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    onDidChangeConfiguration: (listener) => {
      onConfigChange = listener;
      return { dispose() {} };
    },
  },
  languages: {
    registerFoldingRangeProvider: (selector, provider) => {
      registered.folding = { selector, provider };
      return { dispose() {} };
    },
  },
  commands: {
    registerCommand: (name, callback) => {
      registered[name] = callback;
      return { dispose() {} };
    },
  },
  window: { showErrorMessage: (message) => assert.fail(message) },
  FoldingRange: class {
    constructor(start, end) {
      Object.assign(this, { start, end });
    }
  },
};
const fakeClientModule = { LanguageClient: FakeClient, TransportKind: { stdio: 0 } };

const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'vscode') return fakeVscode;
  if (request === 'vscode-languageclient/node') return fakeClientModule;
  return load.call(this, request, ...rest);
};
const extension = require('../../extension');

test('activate starts `<shotc.path> lsp` over stdio for .shot documents', async () => {
  const context = { subscriptions: [] };
  await extension.activate(context);
  assert.strictEqual(started.length, 1);
  const client = started[0];
  assert.deepStrictEqual(client.serverOptions, {
    command: '/opt/film/.venv/bin/shotc',
    args: ['lsp'],
    transport: 0,
  });
  assert.deepStrictEqual(
    client.clientOptions.documentSelector.map((entry) => entry.language),
    ['shot', 'shot']
  );
  assert.strictEqual(client.clientOptions.synchronize.fileEvents.glob, '**/*.shot');

  const lines = ['SCENE A', 'SHOT 5s', 'x'];
  const document = { lineCount: lines.length, lineAt: (index) => ({ text: lines[index] }) };
  const ranges = registered.folding.provider.provideFoldingRanges(document);
  assert.deepStrictEqual(
    ranges.map(({ start, end }) => [start, end]),
    [[0, 2], [1, 2]]
  );
});

test('changing shotc.path restarts the server with the new path; blank means `shotc`', async () => {
  configuredPath = '   ';
  await onConfigChange({ affectsConfiguration: (key) => key === 'shotc.path' });
  assert.strictEqual(stopped.length, 1);
  assert.strictEqual(started.length, 2);
  assert.strictEqual(started[1].serverOptions.command, 'shotc');
  await onConfigChange({ affectsConfiguration: () => false });
  assert.strictEqual(started.length, 2);
  await registered['shotc.restartServer']();
  assert.strictEqual(started.length, 3);
  await extension.deactivate();
  assert.strictEqual(stopped.length, 3);
});
