import * as assert from 'assert';
import type * as vscode from 'vscode';
import { COMMANDS, OPEN_SETTINGS } from '../src/ids';
import { StatusBar, StatusModel, scopeOf, summarize } from '../src/statusBar';
import { changesReviewed, reviewed } from './fixtures';
import { StatusBarAlignment, StatusBarItem } from './mocks/vscode';

function running(): StatusModel {
  const model = new StatusModel();
  model.apply({ type: 'server', state: 'running' });
  return model;
}

describe('StatusModel', () => {
  it('is idle ("$(sparkle) Fusion") once the server runs', () => {
    const view = running().view();
    assert.strictEqual(view.text, '$(sparkle) Fusion');
    assert.strictEqual(view.command?.command, COMMANDS.showOutput);
  });

  it('follows a work-done progress: begin → report → end, then shows the summary', () => {
    const model = running();
    let view = model.apply({
      type: 'progress',
      token: 'fusion-1',
      value: { kind: 'begin', title: 'Fusion: review', cancellable: true, message: 'starting' },
    });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: starting');
    assert.strictEqual(view.command?.command, COMMANDS.cancel, 'a click cancels while busy');
    view = model.apply({ type: 'progress', token: 'fusion-1', value: { kind: 'report', message: 'round 1: 2/3 answered' } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: round 1: 2/3 answered');
    view = model.apply({
      type: 'progress',
      token: 'fusion-1',
      value: { kind: 'report', message: 'round 1: 3/3 answered · judging…' },
    });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: round 1: 3/3 answered · judging…');
    view = model.apply({ type: 'progress', token: 'fusion-1', value: { kind: 'end', message: '2 findings' } });
    assert.strictEqual(view.text, '$(sparkle) Fusion: 2 findings');
    assert.strictEqual(view.command?.command, COMMANDS.showOutput);
  });

  it('keeps the last message when a report has none, and names the work on a bare begin', () => {
    const model = running();
    let view = model.apply({ type: 'progress', token: 7, value: { kind: 'begin', title: 'Fusion: explain' } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: explain…');
    view = model.apply({ type: 'progress', token: 7, value: { kind: 'report', percentage: 10 } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: explain…');
  });

  it('shows "reviewing…" for a command the server has not reported progress on', () => {
    const model = running();
    assert.strictEqual(model.apply({ type: 'sent', action: 'review' }).text, '$(sync~spin) Fusion: reviewing…');
    const view = model.apply({ type: 'answered', action: 'review', result: reviewed({ findings: 1 }) });
    assert.strictEqual(view.text, '$(sparkle) Fusion: 1 finding');
  });

  it('counts concurrent reviews and stays busy until the last one ends', () => {
    const model = running();
    model.apply({ type: 'progress', token: 'a', value: { kind: 'begin', title: 'Fusion: review', message: 'round 1: 0/3 answered' } });
    let view = model.apply({ type: 'progress', token: 'b', value: { kind: 'begin', title: 'Fusion: review', message: 'round 1: 0/2 answered' } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: round 1: 0/2 answered (+1)');
    view = model.apply({ type: 'progress', token: 'a', value: { kind: 'report', message: 'round 1: 1/3 answered' } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: round 1: 1/3 answered (+1)', 'the latest report wins');
    view = model.apply({ type: 'progress', token: 'a', value: { kind: 'end', message: '0 findings' } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: round 1: 0/2 answered');
    view = model.apply({ type: 'progress', token: 'b', value: { kind: 'end', message: '3 findings' } });
    assert.strictEqual(view.text, '$(sparkle) Fusion: 3 findings');
  });

  it('replaces the progress summary with the command result, which knows more', () => {
    const model = running();
    model.apply({ type: 'sent', action: 'review' });
    model.apply({ type: 'progress', token: 't', value: { kind: 'begin', title: 'Fusion: review' } });
    let view = model.apply({ type: 'progress', token: 't', value: { kind: 'end', message: '2 findings' } });
    assert.strictEqual(view.text, '$(sync~spin) Fusion: reviewing…', 'still waiting for the answer');
    view = model.apply({
      type: 'answered',
      action: 'review',
      result: reviewed({ findings: 2, stale: 1, degraded: true }),
    });
    assert.strictEqual(view.text, '$(sparkle) Fusion: 2 findings · 1 dropped after edits · degraded');
  });

  it('points at the setting when the server is missing, and at the output when it failed', () => {
    const model = new StatusModel();
    let view = model.apply({ type: 'server', state: 'missing' });
    assert.strictEqual(view.text, '$(warning) Fusion');
    assert.deepStrictEqual(view.command, {
      command: OPEN_SETTINGS,
      title: 'Open setting',
      arguments: ['fusion.server.command'],
    });
    view = model.apply({ type: 'server', state: 'failed', detail: 'exit 1' });
    assert.strictEqual(view.text, '$(error) Fusion');
    assert.match(view.tooltip, /exit 1/);
    view = model.apply({ type: 'server', state: 'stopped' });
    assert.strictEqual(view.command?.command, COMMANDS.restartServer);
  });

  it('forgets running progress when the server goes away', () => {
    const model = running();
    model.apply({ type: 'progress', token: 't', value: { kind: 'begin', title: 'Fusion: review', message: 'x' } });
    model.apply({ type: 'server', state: 'stopped' });
    assert.strictEqual(model.apply({ type: 'server', state: 'running' }).text, '$(sparkle) Fusion');
  });
});

describe('summarize', () => {
  it('shows what a review carries: count, cost in the text; mode, models, time, tokens in the tooltip', () => {
    const summary = summarize(
      reviewed({
        findings: 3,
        mode: 'merge',
        models: [
          { model: 'a', status: 'ok', cached: false },
          { model: 'b', status: 'ok', cached: true },
          { model: 'c', status: 'timeout', cached: false },
        ],
        elapsed_s: 9.114,
        usage: { total_tokens: 7058, cost_usd: 0.0179 },
      }),
    );
    assert.strictEqual(summary?.text, '3 findings · $0.0179');
    assert.strictEqual(summary?.tooltip, '3 findings · merge · 2/3 models answered · 9.1 s · 7058 tokens · $0.0179');
  });

  it('leaves the cost out when the providers did not report one', () => {
    const summary = summarize(reviewed({ findings: 1, mode: 'debate', usage: { total_tokens: 1, cost_usd: null } }));
    assert.strictEqual(summary?.text, '1 finding');
    assert.strictEqual(summary?.tooltip, '1 finding · debate · 1/1 models answered · 4.2 s · 1 token');
  });

  it('counts findings and files of a review of changes, and lists what it left out', () => {
    const summary = summarize(changesReviewed({ stale: 1 }));
    assert.strictEqual(summary?.text, '3 findings in 2 changed files · 1 dropped after edits · $0.0120');
    assert.strictEqual(
      summary?.tooltip,
      '3 findings in 2 changed files · 1 dropped after edits · 6.5 s · 3000 tokens · $0.0120\nnot reviewed:\ngone.py: deleted',
    );
    const none = summarize(changesReviewed({ files: 0, findings: 0, skipped: [] }));
    assert.strictEqual(none?.text, 'no changes');
  });

  it('shows "reviewing changes…" while a review of changes runs', () => {
    const model = running();
    assert.strictEqual(model.apply({ type: 'sent', action: 'reviewChanges' }).text, '$(sync~spin) Fusion: reviewing changes…');
  });

  it('words every kind and status', () => {
    assert.strictEqual(summarize(reviewed())?.text, '0 findings');
    assert.strictEqual(summarize({ kind: 'review', status: 'cancelled', message: null })?.text, 'cancelled');
    assert.strictEqual(summarize({ kind: 'explain', status: 'stale', message: null })?.text, 'results dropped');
    assert.strictEqual(summarize({ kind: 'explain', status: 'ok', explanation: '…' })?.text, 'explained');
    assert.strictEqual(summarize({ kind: 'clear', status: 'ok' }), undefined, 'clearing returns to idle');
    const cache = summarize({ kind: 'clearCache', status: 'ok', cleared: 3 });
    assert.strictEqual(cache?.text, 'cache cleared');
    assert.strictEqual(cache?.tooltip, 'cleared 3 cached answers');
    const failed = summarize({ kind: 'review', status: 'error', message: 'no model answered' });
    assert.strictEqual(failed?.text, 'failed');
    assert.strictEqual(failed?.tooltip, 'no model answered');
    assert.strictEqual(
      summarize({ kind: 'review', status: 'error', message: null })?.tooltip,
      'the server reported an error',
    );
    assert.strictEqual(summarize(undefined, 'Request failed')?.tooltip, 'Request failed');
    assert.strictEqual(summarize(undefined)?.text, 'no answer');
  });
});

describe('StatusBar', () => {
  it('copies the view onto the item and shows it', () => {
    const item = new StatusBarItem(StatusBarAlignment.Right, 100);
    const bar = new StatusBar(item as unknown as vscode.StatusBarItem);
    assert.ok(item.visible);
    assert.strictEqual(item.text, '$(sync~spin) Fusion', 'starting');
    bar.apply({ type: 'server', state: 'running' });
    bar.apply({ type: 'sent', action: 'explain' });
    assert.strictEqual(item.text, '$(sync~spin) Fusion: explaining…');
    assert.deepStrictEqual(item.command, { command: COMMANDS.cancel, title: 'Cancel Fusion reviews' });
    bar.dispose();
    assert.ok(item.disposed);
  });
});

describe('scopeOf', () => {
  const at = (line: number, character: number) => ({ line, character });

  it('reads a selection of whole lines without the line it ends at the start of', () => {
    assert.deepStrictEqual(scopeOf(['file:///a.py', { start: at(0, 0), end: at(10, 0) }]), {
      uri: 'file:///a.py',
      lines: { start: 0, end: 9 },
    });
  });

  it('keeps the last line when the selection ends inside it, and the cursor’s line when empty', () => {
    assert.deepStrictEqual(scopeOf(['u', { start: at(2, 4), end: at(5, 3) }])?.lines, { start: 2, end: 5 });
    assert.deepStrictEqual(scopeOf(['u', { start: at(7, 0), end: at(7, 0) }])?.lines, { start: 7, end: 7 });
  });

  it('covers the whole file without a range, and nothing without a URI', () => {
    assert.deepStrictEqual(scopeOf(['file:///a.py']), { uri: 'file:///a.py' });
    assert.strictEqual(scopeOf([]), undefined);
  });
});
