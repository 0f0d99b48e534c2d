/**
 * The extension end to end through `activate`, with `vscode` and `vscode-languageclient/node`
 * replaced by the mocks (see setup.ts): no VS Code, no server process.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { deactivate } from '../src/extension';
import { changesReviewed, reviewed } from './fixtures';
import { dir, errors, output, program, root, run, start, statusText, tick } from './harness';
import { CloseAction, LanguageClient, State, clients, type SentRequest } from './mocks/languageclient';
import { Uri, mock, workspace } from './mocks/vscode';

interface Manifest {
  main: string;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
    keybindings?: unknown[];
    configuration: { properties: Record<string, unknown> };
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;

describe('commands', () => {
  it('registers the four Fusion commands, and every command the manifest contributes', async () => {
    await start().ready();
    for (const id of [
      'fusion-ls.reviewSelection',
      'fusion-ls.explainSelection',
      'fusion-ls.reviewFile',
      'fusion-ls.clearFindings',
    ]) {
      assert.ok(mock.commands.has(id), id);
    }
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepStrictEqual([...mock.commands.keys()].sort(), contributed);
    assert.ok(manifest.contributes.commands.every((c) => c.category === 'Fusion'));
  });

  it('Review Selection sends workspace/executeCommand fusion.review [uri, range]', async () => {
    await start().ready();
    mock.editor('/work/app.py', [4, 0, 9, 3]);
    const result = await run('fusion-ls.reviewSelection');
    assert.deepStrictEqual(result, reviewed());
    const [request] = clients.last.requests;
    assert.ok(request);
    assert.strictEqual(request.method, 'workspace/executeCommand');
    assert.deepStrictEqual(request.params, {
      command: 'fusion.review',
      arguments: ['file:///work/app.py', { start: { line: 4, character: 0 }, end: { line: 9, character: 3 } }],
    });
    assert.ok(request.token, 'the request can be cancelled');
  });

  it('Explain Selection, Review File and Clear Findings send their server commands', async () => {
    await start().ready();
    mock.editor('/work/app.py', [1, 2, 1, 8]);
    await run('fusion-ls.explainSelection');
    await run('fusion-ls.reviewFile');
    await run('fusion-ls.clearFindings');
    const sent = clients.last.requests.map((r) => r.params);
    assert.deepStrictEqual(sent, [
      {
        command: 'fusion.explain',
        arguments: ['file:///work/app.py', { start: { line: 1, character: 2 }, end: { line: 1, character: 8 } }],
      },
      { command: 'fusion.reviewFile', arguments: ['file:///work/app.py'] },
      { command: 'fusion.clear', arguments: ['file:///work/app.py'] },
    ]);
  });

  it('Review Changes sends fusion.reviewChanges with no arguments, with or without an editor', async () => {
    await start().ready();
    clients.respond = () => Promise.resolve(changesReviewed());
    assert.deepStrictEqual(await run('fusion-ls.reviewChanges'), changesReviewed());
    mock.editor('extension-output-1', [0, 0, 0, 0], 'output');
    await run('fusion-ls.reviewChanges');
    const sent = clients.last.requests.map((r) => r.params);
    assert.deepStrictEqual(sent, [
      { command: 'fusion.reviewChanges', arguments: [] },
      { command: 'fusion.reviewChanges', arguments: [] },
    ]);
    assert.strictEqual(mock.messages.length, 0, 'no "open a file first"');
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 3 findings in 2 changed files · $0.0120');
  });

  it('sends nothing without a file editor', async () => {
    await start().ready();
    await run('fusion-ls.reviewFile');
    mock.editor('extension-output-1', [0, 0, 0, 0], 'output');
    await run('fusion-ls.reviewSelection');
    assert.strictEqual(clients.last.requests.length, 0);
    assert.strictEqual(mock.messages.length, 2);
  });

  it('Cancel cancels the running request', async () => {
    await start().ready();
    mock.editor('/work/app.py', [0, 0, 3, 0]);
    clients.respond = (request: SentRequest) =>
      new Promise((resolve) => request.token?.onCancellationRequested(() => resolve({ kind: 'review', status: 'cancelled', message: null })));
    const review = run('fusion-ls.reviewSelection');
    await tick();
    assert.match(statusText(), /^\$\(sync~spin\) Fusion: reviewing…/);
    await run('fusion-ls.cancel');
    assert.deepStrictEqual(await review, { kind: 'review', status: 'cancelled', message: null });
    assert.strictEqual(statusText(), '$(sparkle) Fusion: cancelled');
    await run('fusion-ls.cancel');
    assert.match(mock.messages[mock.messages.length - 1]?.text ?? '', /no review is running/);
  });

  it('logs an answer it does not understand and shows it as failed, not as "no answer"', async () => {
    await start().ready();
    mock.editor('/work/app.py', [0, 0, 3, 0]);
    clients.respond = () => Promise.resolve({ status: 'ok', findings: 2 }); // no kind: an older server
    assert.strictEqual(await run('fusion-ls.reviewSelection'), undefined);
    assert.strictEqual(statusText(), '$(warning) Fusion: failed');
    assert.ok(
      output().logged.some((l) => l.level === 'warn' && /fusion\.review with a result .*"findings":2/.test(l.message)),
      'the answer is logged',
    );
  });
});

describe('server options from settings', () => {
  it('starts the configured program with its args, trust and overrides', async () => {
    mock.settings['fusion.server.args'] = ['--log-level', 'DEBUG'];
    mock.settings['fusion.mode'] = 'debate';
    mock.settings['fusion.pool'] = ['anthropic/claude-sonnet-4.5', { model: 'qwen2.5-coder:14b', provider: 'local' }];
    mock.settings['fusion.judge'] = 'openai/gpt-5-mini';
    await start().ready();
    const client = clients.last;
    assert.strictEqual(clients.built.length, 1);
    assert.strictEqual(client.id, 'fusion');
    assert.deepStrictEqual(client.serverOptions, { command: program, args: ['--log-level', 'DEBUG'] });
    assert.deepStrictEqual(client.clientOptions.initializationOptions, {
      trusted: true,
      mode: 'debate',
      pool: ['anthropic/claude-sonnet-4.5', { model: 'qwen2.5-coder:14b', provider: 'local' }],
      judge: 'openai/gpt-5-mini',
    });
    assert.strictEqual(client.state, State.Running);
    assert.strictEqual(statusText(), '$(sparkle) Fusion');
  });

  it('sends no overrides with the package.json defaults, and tells an untrusted workspace so', async () => {
    workspace.isTrusted = false;
    await start().ready();
    assert.deepStrictEqual(clients.last.clientOptions.initializationOptions, { trusted: false });
  });

  it('runs a workspace-relative program from the first workspace folder', async () => {
    workspace.workspaceFolders = [{ uri: Uri.file(dir), name: 'w', index: 0 }];
    mock.settings['fusion.server.command'] = '${workspaceFolder}/fusion-ls';
    await start().ready();
    assert.deepStrictEqual(clients.last.serverOptions, { command: program, args: [], options: { cwd: dir } });
  });
});

describe('a missing server', () => {
  const INSTALL = /pip install \/path\/to\/fusion-ls/;

  it('shows one install notification with a button that opens the setting', async () => {
    mock.settings['fusion.server.command'] = 'fusion-ls-not-installed-anywhere';
    mock.answer = 'Open Setting';
    const controller = start();
    await controller.ready();
    assert.strictEqual(clients.built.length, 0, 'nothing is spawned');
    mock.changeSettings({ 'fusion.mode': 'merge' });
    await controller.ready();
    mock.changeSettings({ 'fusion.judge': 'x/y' });
    await controller.ready();
    await tick();
    assert.strictEqual(errors().length, 1);
    assert.match(errors()[0] ?? '', INSTALL);
    assert.deepStrictEqual(mock.messages[0]?.items, ['Open Setting']);
    assert.deepStrictEqual(
      mock.executed.filter((e) => e.command === 'workbench.action.openSettings'),
      [{ command: 'workbench.action.openSettings', args: ['fusion.server.command'] }],
    );
    assert.strictEqual(statusText(), '$(warning) Fusion');
  });

  it('shows it again when the user asks for a review, and sends nothing', async () => {
    mock.settings['fusion.server.command'] = '/nowhere/fusion-ls';
    await start().ready();
    mock.editor('/work/app.py', [0, 0, 1, 0]);
    await run('fusion-ls.reviewSelection');
    assert.strictEqual(errors().length, 2);
    assert.ok(errors().every((text) => INSTALL.test(text)));
  });

  it('turns a spawn error into the same single notification, without the library’s own', async () => {
    clients.start = () => Promise.reject(`Launching server using command ${program} failed. Error: spawn ${program} ENOENT`);
    await start().ready();
    assert.strictEqual(errors().length, 1);
    assert.match(errors()[0] ?? '', INSTALL);
    const client = clients.last;
    assert.deepStrictEqual(
      client.errors.map((e) => e.show),
      [false],
      'the client logs the failure without a notification',
    );
    assert.ok(client.disposed);
    assert.strictEqual(statusText(), '$(warning) Fusion');
  });

  it('reports any other start failure once, pointing at the output', async () => {
    clients.start = () => Promise.reject(new Error('Server initialization failed.'));
    mock.answer = 'Show Output';
    await start().ready();
    await tick();
    assert.deepStrictEqual(errors(), ['fusion-ls failed to start: Server initialization failed.']);
    assert.strictEqual(output().shown, 1);
    assert.ok(
      output().logged.some((l) => l.level === 'error' && /could not start .*Server initialization failed/.test(l.message)),
      'the failure is logged as an error',
    );
    assert.strictEqual(statusText(), '$(error) Fusion');
  });

  it('notifies again when the program goes missing after it had been found', async () => {
    mock.settings['fusion.server.command'] = '/nowhere/fusion-ls';
    const controller = start();
    await controller.ready();
    mock.changeSettings({ 'fusion.server.command': program });
    await controller.ready();
    mock.changeSettings({ 'fusion.server.command': '/nowhere/fusion-ls' });
    await controller.ready();
    assert.strictEqual(errors().length, 2);
  });

  it('starts once the setting points at a real program', async () => {
    mock.settings['fusion.server.command'] = '/nowhere/fusion-ls';
    const controller = start();
    await controller.ready();
    mock.changeSettings({ 'fusion.server.command': program });
    await controller.ready();
    assert.strictEqual(clients.built.length, 1);
    assert.strictEqual(clients.last.serverOptions.command, program);
    assert.strictEqual(statusText(), '$(sparkle) Fusion');
  });
});

describe('status bar', () => {
  it('follows the server’s work-done progress and then shows the review summary', async () => {
    await start().ready();
    const client = clients.last;
    mock.editor('/work/app.py', [0, 0, 5, 0]);
    let answer: (value: unknown) => void = () => undefined;
    clients.respond = () => new Promise((resolve) => (answer = resolve));
    const review = run('fusion-ls.reviewSelection');
    await tick();
    client.progress('fusion-1', { kind: 'begin', title: 'Fusion: review', cancellable: true, message: 'starting' });
    assert.strictEqual(statusText(), '$(sync~spin) Fusion: starting');
    client.progress('fusion-1', { kind: 'report', message: 'round 1: 2/3 answered' });
    assert.strictEqual(statusText(), '$(sync~spin) Fusion: round 1: 2/3 answered');
    client.progress('fusion-1', { kind: 'report', message: 'round 1: 3/3 answered · judging…' });
    assert.strictEqual(statusText(), '$(sync~spin) Fusion: round 1: 3/3 answered · judging…');
    client.progress('fusion-1', { kind: 'end', message: '2 findings' });
    answer(reviewed({ findings: 2 }));
    await review;
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 2 findings');
    assert.deepStrictEqual(
      client.shownProgress,
      [{ kind: 'end', message: '2 findings' }],
      'the library’s own progress (a second status-bar entry) hears only the end, to forget the token',
    );
  });

  it('shows progress that no command of ours started, e.g. a code action', async () => {
    await start().ready();
    clients.last.progress(42, { kind: 'begin', title: 'Fusion: explain', message: 'round 1: 0/2 answered' });
    assert.strictEqual(statusText(), '$(sync~spin) Fusion: round 1: 0/2 answered');
    clients.last.progress(42, { kind: 'end', message: 'explained' });
    assert.strictEqual(statusText(), '$(sparkle) Fusion: explained');
  });

  it('Cancel also stops a review started from a code action, through its progress', async () => {
    await start().ready();
    const client = clients.last;
    client.progress('fusion-7', { kind: 'begin', title: 'Fusion: review', cancellable: true, message: 'starting' });
    await run('fusion-ls.cancel');
    assert.deepStrictEqual(client.notifications, [
      { method: 'window/workDoneProgress/cancel', params: { token: 'fusion-7' } },
    ]);
    client.progress('fusion-7', { kind: 'end', message: 'cancelled' });
    await run('fusion-ls.cancel');
    assert.strictEqual(client.notifications.length, 1, 'an ended progress is not cancelled again');
    assert.match(mock.messages[mock.messages.length - 1]?.text ?? '', /no review is running/);
  });

  it('shows a server that could not be started again after a crash as failed', async () => {
    await start().ready();
    clients.last.setState(State.StartFailed);
    assert.strictEqual(statusText(), '$(error) Fusion');
  });

  it('shows a stopped server and offers a restart', async () => {
    await start().ready();
    clients.last.setState(State.Stopped);
    assert.strictEqual(statusText(), '$(circle-slash) Fusion');
    await run('fusion-ls.restartServer');
    assert.strictEqual(clients.built.length, 2);
    assert.strictEqual(statusText(), '$(sparkle) Fusion');
  });
});

describe('restarts', () => {
  it('restarts with the new settings when a fusion.* setting changes', async () => {
    const controller = start();
    await controller.ready();
    const first = clients.last;
    mock.changeSettings({ 'fusion.pool': ['a/b', 'c/d'] });
    await controller.ready();
    assert.strictEqual(clients.built.length, 2);
    assert.ok(first.disposed, 'the old server is stopped');
    assert.deepStrictEqual(clients.last.clientOptions.initializationOptions, { trusted: true, pool: ['a/b', 'c/d'] });
    assert.strictEqual(clients.last.state, State.Running);
  });

  it('sends a command issued during a restart to the new server', async () => {
    const controller = start();
    await controller.ready();
    const first = clients.last;
    mock.editor('/work/app.py', [0, 0, 2, 0]);
    mock.changeSettings({ 'fusion.mode': 'debate' });
    await run('fusion-ls.reviewSelection');
    assert.strictEqual(clients.built.length, 2);
    assert.strictEqual(first.requests.length, 0);
    assert.strictEqual(clients.last.requests.length, 1);
  });

  it('ignores other settings and folds a burst of changes into one restart', async () => {
    const controller = start();
    await controller.ready();
    mock.changeSettings({ 'editor.fontSize': 14 });
    await controller.ready();
    assert.strictEqual(clients.built.length, 1);
    mock.changeSettings({ 'fusion.mode': 'debate' });
    mock.changeSettings({ 'fusion.mode': 'best-of' });
    mock.changeSettings({ 'fusion.server.args': ['--log-level', 'INFO'] });
    await controller.ready();
    assert.strictEqual(clients.built.length, 2);
    assert.deepStrictEqual(clients.last.clientOptions.initializationOptions, { trusted: true, mode: 'best-of' });
    assert.deepStrictEqual(clients.last.serverOptions.args, ['--log-level', 'INFO']);
  });

  it('does not restart for fusion.trace.server, which the running client applies itself', async () => {
    const controller = start();
    await controller.ready();
    mock.changeSettings({ 'fusion.trace.server': 'verbose' });
    await controller.ready();
    assert.strictEqual(clients.built.length, 1, 'a restart would take every finding off the editor');
    assert.strictEqual(clients.last.disposed, false);
  });

  it('restarts for every other setting the manifest contributes', async () => {
    const controller = start();
    await controller.ready();
    const settings = Object.keys(manifest.contributes.configuration.properties).filter((key) => key !== 'fusion.trace.server');
    for (const [index, key] of settings.entries()) {
      mock.changeSettings({ [key]: mock.settings[key] });
      await controller.ready();
      assert.strictEqual(clients.built.length, index + 2, key);
    }
  });

  it('restarts as trusted when the workspace is granted trust', async () => {
    workspace.isTrusted = false;
    const controller = start();
    await controller.ready();
    assert.strictEqual(clients.last.clientOptions.initializationOptions?.trusted, false);
    workspace.isTrusted = true;
    mock.trustGranted.fire();
    await controller.ready();
    assert.strictEqual(clients.built.length, 2);
    assert.strictEqual(clients.last.clientOptions.initializationOptions?.trusted, true);
  });

  it('stops the server on deactivate', async () => {
    await start().ready();
    await deactivate();
    assert.ok(clients.last.disposed);
    assert.strictEqual(clients.last.state, State.Stopped);
  });
});

describe('the language client', () => {
  it('does not restart a server that dies while starting, but restarts one that crashes later', async () => {
    let client: LanguageClient | undefined;
    clients.start = async () => {
      client = clients.last;
      const verdict = await client.errorHandler?.closed();
      assert.deepStrictEqual(verdict, { action: CloseAction.DoNotRestart, handled: true });
    };
    await start().ready();
    assert.ok(client);
    for (let crash = 1; crash <= 4; crash += 1) {
      assert.deepStrictEqual(await client.errorHandler?.closed(), { action: CloseAction.Restart, handled: true });
    }
    const fifth = await client.errorHandler?.closed();
    assert.strictEqual(fifth?.action, CloseAction.DoNotRestart);
    assert.match(fifth?.message ?? '', /crashed 5 times/);
  });

  it('logs to the Fusion log channel and the server’s stderr as info, not as errors', async () => {
    await start().ready();
    const client = clients.last;
    assert.strictEqual(client.clientOptions.outputChannel, output() as unknown);
    await client.serverStderr('2025-01-01 10:00:00,000 INFO fusion_ls.server: started\nsecond line');
    assert.deepStrictEqual(output().logged, [
      { level: 'info', message: '2025-01-01 10:00:00,000 INFO fusion_ls.server: started' },
      { level: 'info', message: 'second line' },
    ]);
  });

  it('keeps the library’s notifications once the server runs', async () => {
    await start().ready();
    clients.last.error('Request workspace/executeCommand failed.', undefined, true);
    assert.deepStrictEqual(clients.last.errors.map((e) => e.show), [true]);
  });
});

describe('package.json', () => {
  it('shows the selection commands in the context menu only with a selection', () => {
    const context = manifest.contributes.menus['editor/context'] ?? [];
    const when = Object.fromEntries(context.map((m) => [m.command, m.when]));
    assert.strictEqual(when['fusion-ls.reviewSelection'], 'editorHasSelection');
    assert.strictEqual(when['fusion-ls.explainSelection'], 'editorHasSelection');
    assert.ok('fusion-ls.reviewFile' in when && 'fusion-ls.clearFindings' in when);
  });

  it('declares limited support for untrusted workspaces and binds no keys', () => {
    const untrusted = manifest.capabilities.untrustedWorkspaces;
    assert.strictEqual(untrusted.supported, 'limited');
    assert.deepStrictEqual(untrusted.restrictedConfigurations.sort(), ['fusion.server.args', 'fusion.server.command']);
    assert.strictEqual(manifest.contributes.keybindings, undefined);
  });

  it('contributes every setting the extension reads', () => {
    const settings = Object.keys(manifest.contributes.configuration.properties).sort();
    assert.deepStrictEqual(settings, [
      'fusion.allowOutsideWorkspace',
      'fusion.judge',
      'fusion.minAgreement',
      'fusion.mode',
      'fusion.pool',
      'fusion.server.args',
      'fusion.server.command',
      'fusion.trace.server',
    ]);
    assert.strictEqual(manifest.main, './out/src/extension.js');
    assert.ok(fs.existsSync(path.join(root, manifest.main)), 'main is built');
  });
});
