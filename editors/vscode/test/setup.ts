/**
 * Mocha `--require` hook: `require('vscode')` and `require('vscode-languageclient/node')` load
 * the hand-written mocks, so the extension runs in plain Node without VS Code or a server.
 */
import Module = require('module');
import * as path from 'path';

const aliases: Record<string, string> = {
  vscode: path.join(__dirname, 'mocks', 'vscode.js'),
  'vscode-languageclient/node': path.join(__dirname, 'mocks', 'languageclient.js'),
};

interface Resolver {
  _resolveFilename(request: string, ...rest: unknown[]): string;
}

const resolver = Module as unknown as Resolver;
const original = resolver._resolveFilename.bind(resolver);
resolver._resolveFilename = (request: string, ...rest: unknown[]): string =>
  aliases[request] ?? original(request, ...rest);
