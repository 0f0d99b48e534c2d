/**
 * The extension activated against the mocks, for the test files that drive it through
 * `activate`: helpers to start it, run its commands and read what it shows. Importing this
 * module registers root hooks (once, however many files import it): a fresh mock and a fake
 * `fusion-ls` program for each test, deactivation after it.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';
import type { Controller } from '../src/controller';
import { activate, deactivate } from '../src/extension';
import { clients } from './mocks/languageclient';
import { LogOutputChannel, mock } from './mocks/vscode';

/** The extension's folder (package.json). */
export const root = path.join(__dirname, '..', '..');

/** A folder for the test run, and an executable `fusion-ls` in it (the default setting). */
export let dir: string;
export let program: string;
let context: { subscriptions: Array<{ dispose(): unknown }> };

export function start(): Controller {
  context = { subscriptions: [] };
  return activate(context as unknown as vscode.ExtensionContext);
}

/** Runs a palette command, as VS Code would. */
export async function run(command: string): Promise<unknown> {
  const handler = mock.commands.get(command);
  assert.ok(handler, `${command} is registered`);
  return handler();
}

export function errors(): string[] {
  return mock.messages.filter((m) => m.kind === 'error').map((m) => m.text);
}

/** The Fusion output: a log channel, as vscode-languageclient 11 requires. */
export function output(): LogOutputChannel {
  const channel = mock.outputs[0];
  assert.ok(channel instanceof LogOutputChannel, 'the Fusion output is created with { log: true }');
  return channel;
}

export function statusText(): string {
  const item = mock.statusItems[0];
  assert.ok(item, 'a status bar item exists');
  return item.text;
}

export function statusTooltip(): string {
  const item = mock.statusItems[0];
  assert.ok(item, 'a status bar item exists');
  return String(item.tooltip);
}

/** Lets queued promise callbacks (message buttons, restarts) run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fusion-vscode-'));
  program = path.join(dir, 'fusion-ls');
  fs.writeFileSync(program, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  mock.reset();
  clients.reset();
  mock.settings['fusion.server.command'] = program;
});

afterEach(async () => {
  await deactivate();
  for (const subscription of context?.subscriptions ?? []) {
    subscription.dispose();
  }
});
