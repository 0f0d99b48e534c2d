/**
 * What the user is told, wherever a review starts and whatever happens after it: the status bar
 * after a restart and after a quick fix, light-bulb reviews tracked like palette ones, and the
 * Fusion output holding every failure a notification showed. Each test is one defect seen in a
 * real workbench (see workbench/run.mjs, which checks the same there).
 */
import * as assert from 'assert';
import { changesReviewed, reviewed } from './fixtures';
import { errors, output, program, run, start, statusText, statusTooltip } from './harness';
import { clients, MessageType } from './mocks/languageclient';
import { Position, Range, Uri, mock } from './mocks/vscode';

const FILE = '/work/app.py';
const URI = `file://${FILE}`;

function finding(line: number, source = 'fusion') {
  return { range: new Range(new Position(line, 4), new Position(line, 20)), message: 'a finding (2/3 models)', source };
}

describe('the status bar', () => {
  it('says the same after a light-bulb review as after a palette review', async () => {
    await start().ready();
    mock.editor(FILE, [0, 0, 10, 0]);
    const answer = reviewed({ findings: 2, elapsed_s: 3.1 });
    clients.respond = () => Promise.resolve(answer);
    await run('fusion-ls.reviewSelection');
    const palette = { text: statusText(), tooltip: statusTooltip() };
    await run('fusion-ls.clearFindings');
    clients.respond = () => Promise.resolve(answer);
    const result = await clients.last.runServerCommand('fusion.review', [URI, { start: { line: 0, character: 0 }, end: { line: 10, character: 0 } }]);
    assert.deepStrictEqual(result, answer, 'the caller still gets the server’s answer');
    assert.deepStrictEqual({ text: statusText(), tooltip: statusTooltip() }, palette);
    assert.match(statusTooltip(), /merge · 1\/1 models answered · 3\.1 s · 1,?200 tokens/);
  });

  it('leaves commands that are not Fusion’s own alone', async () => {
    await start().ready();
    const before = mock.statusItems[0]?.history.length;
    clients.respond = () => Promise.resolve('other');
    assert.strictEqual(await clients.last.runServerCommand('editor.other', []), 'other');
    assert.strictEqual(mock.statusItems[0]?.history.length, before);
  });

  it('forgets the last failure when the server restarts, and after the path is fixed', async () => {
    const controller = start();
    await controller.ready();
    mock.editor(FILE, [0, 0, 3, 0]);
    clients.respond = () => Promise.reject(new Error('Client is not running'));
    await run('fusion-ls.reviewSelection');
    assert.strictEqual(statusText(), '$(warning) Fusion: failed');
    mock.changeSettings({ 'fusion.server.command': '/nowhere/fusion-ls' });
    await controller.ready();
    assert.strictEqual(statusText(), '$(warning) Fusion');
    mock.changeSettings({ 'fusion.server.command': program });
    await controller.ready();
    assert.strictEqual(statusText(), '$(sparkle) Fusion');
  });

  it('counts the review’s findings the editor still shows, after a quick fix', async () => {
    await start().ready();
    mock.editor(FILE, [0, 0, 10, 0]); // lines 0–9, whole
    clients.respond = () => Promise.resolve(reviewed({ findings: 2 }));
    await run('fusion-ls.reviewSelection');
    const uri = Uri.file(FILE);
    mock.setDiagnostics(uri, [finding(4), finding(8), finding(10), finding(2, 'pyright')]);
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 2 findings', 'line 10 is outside the review, pyright is not Fusion');
    mock.setDiagnostics(uri, [finding(8), finding(10)]); // the quick fix on line 4 removed its finding
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 1 finding');
    assert.match(statusTooltip(), /^Last Fusion run: 1 finding · merge/);
    mock.setDiagnostics(Uri.file('/work/other.py'), []);
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 1 finding', 'another file does not count');
  });

  it('counts a review of changes down as its findings are dismissed or fixed, in any of its files', async () => {
    await start().ready();
    const store = Uri.file('/work/store.py');
    const app = Uri.file(FILE);
    mock.setDiagnostics(store, [finding(3), finding(9)]); // published while the review ran
    mock.setDiagnostics(app, [finding(1), finding(4), finding(7)]); // from an earlier Review File
    clients.respond = () => Promise.resolve(changesReviewed({ files: 2, findings: 3, usage: { total_tokens: 3000, cost_usd: null } }));
    await run('fusion-ls.reviewChanges');
    mock.setDiagnostics(app, [finding(4)]); // the review's own publish, reported after its answer
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 3 findings in 2 changed files', 'the review replaced app.py’s findings');
    const dismissal = clients.last.runServerCommand('fusion.dismiss', [store.toString(), ['f1'], 'baseline']);
    mock.setDiagnostics(store, [finding(9)]); // "dismiss — not a problem" on line 3
    await dismissal;
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 2 findings in 2 changed files');
    mock.documentChanged.fire({ document: { uri: app } }); // the quick fix on line 4 …
    mock.setDiagnostics(app, []); // … takes its finding off
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 1 finding in 2 changed files');
    assert.match(statusTooltip(), /^Last Fusion run: 1 finding in 2 changed files · 6\.5 s/);
    mock.documentClosed.fire({ uri: store }); // the server takes a closed file's findings off
    mock.setDiagnostics(store, []);
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 0 findings in 2 changed files');
  });

  it('keeps a review of changes after Clear Findings on one of its files, less that file’s findings, until none is left', async () => {
    await start().ready();
    const store = Uri.file('/work/store.py');
    const app = Uri.file(FILE);
    mock.setDiagnostics(store, [finding(3), finding(9)]);
    mock.setDiagnostics(app, [finding(4)]);
    clients.respond = () => Promise.resolve(changesReviewed({ files: 2, findings: 3, usage: { total_tokens: 3000, cost_usd: null } }));
    await run('fusion-ls.reviewChanges');
    mock.editor(FILE, [0, 0, 0, 0]);
    clients.respond = () => {
      mock.setDiagnostics(app, []); // the server publishes the cleared file before it answers
      return Promise.resolve({ kind: 'clear', status: 'ok' });
    };
    await run('fusion-ls.clearFindings');
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 2 findings in 2 changed files', 'store.py still shows two');
    mock.editor('/work/store.py', [0, 0, 0, 0]);
    clients.respond = () => Promise.resolve({ kind: 'clear', status: 'ok' });
    await run('fusion-ls.clearFindings');
    assert.strictEqual(statusText(), '$(sparkle) Fusion', 'nothing the review counted is left');
    mock.setDiagnostics(store, []); // … or after it answered
    assert.strictEqual(statusText(), '$(sparkle) Fusion');
  });

  it('keeps the count of a review of another file after Clear Findings here, and goes idle for its own', async () => {
    await start().ready();
    mock.editor(FILE, [0, 0, 10, 0]);
    clients.respond = () => Promise.resolve(reviewed({ findings: 2 }));
    await run('fusion-ls.reviewSelection');
    mock.editor('/work/other.py', [0, 0, 0, 0]);
    clients.respond = () => Promise.resolve({ kind: 'clear', status: 'ok' });
    await run('fusion-ls.clearFindings');
    assert.strictEqual(statusText(), '$(sparkle) Fusion: 2 findings', 'app.py still shows its findings');
    mock.editor(FILE, [0, 0, 0, 0]);
    await run('fusion-ls.clearFindings');
    assert.strictEqual(statusText(), '$(sparkle) Fusion');
  });
});

describe('the Fusion output', () => {
  it('logs each command’s outcome: failures as errors, results as info', async () => {
    await start().ready();
    mock.editor(FILE, [0, 0, 3, 0]);
    clients.respond = () => Promise.resolve({ kind: 'review', status: 'error', message: 'app.py is excluded by .env*' });
    await run('fusion-ls.reviewSelection');
    clients.respond = () => Promise.resolve(reviewed({ findings: 1 }));
    await run('fusion-ls.reviewSelection');
    assert.deepStrictEqual(
      output().logged.filter((l) => l.message.startsWith('fusion.review')),
      [
        { level: 'error', message: 'fusion.review failed: app.py is excluded by .env*' },
        { level: 'info', message: 'fusion.review: 1 finding · merge · 1/1 models answered · 4.2 s · 1200 tokens' },
      ],
    );
  });

  it('logs why the server cannot start, as the notification says it', async () => {
    mock.settings['fusion.server.command'] = '/nowhere/fusion-ls';
    await start().ready();
    assert.strictEqual(errors().length, 1);
    assert.deepStrictEqual(output().logged, [{ level: 'error', message: errors()[0] }]);
  });

  it('logs the server’s messages at their level, and still shows them', async () => {
    await start().ready();
    const client = clients.last;
    client.serverNotification('window/showMessage', { type: MessageType.Error, message: 'fusion-ls: no model answered' });
    client.serverNotification('window/showMessage', { type: MessageType.Warning, message: 'fusion-ls: gamma timed out' });
    assert.deepStrictEqual(errors(), ['fusion-ls: no model answered']);
    assert.deepStrictEqual(
      mock.messages.filter((m) => m.kind === 'warning').map((m) => m.text),
      ['fusion-ls: gamma timed out'],
    );
    assert.deepStrictEqual(output().logged, [
      { level: 'error', message: 'fusion-ls: no model answered' },
      { level: 'warn', message: 'fusion-ls: gamma timed out' },
    ]);
  });
});
