import * as assert from 'assert';
import { parseResult, type CommandResult } from '../src/results';
import { changesReviewed, reviewed } from './fixtures';

/** A copy of `value` without `key`, for the "missing field" cases. */
function without(value: object, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  delete copy[key];
  return copy;
}

const VALID: CommandResult[] = [
  reviewed(),
  reviewed({
    findings: 2,
    stale: 1,
    degraded: true,
    mode: 'best-of',
    models: [
      { model: 'a', status: 'ok', cached: true },
      { model: 'b', status: 'late', cached: false },
    ],
    usage: { total_tokens: 5, cost_usd: 0.5 },
  }),
  reviewed({ mode: 'debate', models: [] }),
  { kind: 'explain', status: 'ok', explanation: 'It adds one.' },
  { kind: 'review', status: 'cancelled', message: null },
  { kind: 'review', status: 'stale', message: null },
  { kind: 'explain', status: 'error', message: 'no model answered' },
  { kind: 'clear', status: 'ok' },
  { kind: 'clearCache', status: 'ok', cleared: 0 },
  { kind: 'dismiss', status: 'ok', dismissed: 2, baseline: '/p/.fusion-baseline.json', message: null },
  { kind: 'dismiss', status: 'error', dismissed: 0, baseline: null, message: 'broken baseline' },
  changesReviewed(),
  changesReviewed({ files: 0, findings: 0, skipped: [], usage: { total_tokens: 0, cost_usd: null } }),
  { kind: 'reviewChanges', status: 'error', message: 'not in a git work tree' },
];

describe('parseResult', () => {
  it('accepts a well-formed result of every kind and status, unchanged', () => {
    for (const result of VALID) {
      assert.deepStrictEqual(parseResult(JSON.parse(JSON.stringify(result))), result);
    }
  });

  it('reads a left-out NotDone message as null, as pydantic fills it in', () => {
    assert.deepStrictEqual(parseResult({ kind: 'review', status: 'cancelled' }), {
      kind: 'review',
      status: 'cancelled',
      message: null,
    });
  });

  it('keeps only the declared fields', () => {
    assert.deepStrictEqual(parseResult({ kind: 'clear', status: 'ok', extra: 1 }), { kind: 'clear', status: 'ok' });
  });

  it('rejects what is not an object', () => {
    for (const value of [null, undefined, 'ok', 3, [], [reviewed()]]) {
      assert.strictEqual(parseResult(value), undefined, JSON.stringify(value));
    }
  });

  it('rejects unknown kinds and statuses, and the old shape without a kind', () => {
    const rejected: unknown[] = [
      { status: 'ok', findings: 2 },
      { kind: 'format', status: 'ok' },
      { kind: 'review', status: 'done' },
      { kind: 'clear', status: 'cancelled', message: null },
      { kind: 'clearCache', status: 'error', message: 'x' },
      { kind: 'explain', status: 'pending', message: null },
      { kind: 'dismiss', status: 'ok', dismissed: 'two' },
    ];
    for (const value of rejected) {
      assert.strictEqual(parseResult(value), undefined, JSON.stringify(value));
    }
  });

  it('rejects a result that misses a required field', () => {
    for (const key of ['kind', 'status', 'findings', 'stale', 'degraded', 'mode', 'models', 'elapsed_s', 'usage']) {
      assert.strictEqual(parseResult(without(reviewed(), key)), undefined, key);
    }
    const model = { model: 'a', status: 'ok', cached: false };
    for (const key of ['model', 'status', 'cached']) {
      assert.strictEqual(parseResult({ ...reviewed(), models: [without(model, key)] }), undefined, `models[].${key}`);
    }
    for (const key of ['total_tokens', 'cost_usd']) {
      const usage = without({ total_tokens: 1, cost_usd: null }, key);
      assert.strictEqual(parseResult({ ...reviewed(), usage }), undefined, `usage.${key}`);
    }
    for (const key of ['files', 'findings', 'stale', 'skipped', 'elapsed_s', 'usage']) {
      assert.strictEqual(parseResult(without(changesReviewed(), key)), undefined, `reviewChanges ${key}`);
    }
    assert.strictEqual(parseResult({ kind: 'explain', status: 'ok' }), undefined, 'explanation');
    assert.strictEqual(parseResult({ kind: 'clearCache', status: 'ok' }), undefined, 'cleared');
  });

  it('rejects a field of the wrong type', () => {
    const rejected: Array<[string, unknown]> = [
      ['findings as a string', { ...reviewed(), findings: '2' }],
      ['findings as a fraction', { ...reviewed(), findings: 1.5 }],
      ['stale as null', { ...reviewed(), stale: null }],
      ['degraded as a number', { ...reviewed(), degraded: 0 }],
      ['an unknown mode', { ...reviewed(), mode: 'vote' }],
      ['models as a count', { ...reviewed(), models: 3 }],
      ['an unknown model status', { ...reviewed(), models: [{ model: 'a', status: 'done', cached: false }] }],
      ['a model that is not an object', { ...reviewed(), models: ['a'] }],
      ['cached as a string', { ...reviewed(), models: [{ model: 'a', status: 'ok', cached: 'no' }] }],
      ['elapsed_s as a string', { ...reviewed(), elapsed_s: '4.2' }],
      ['cost_usd as a string', { ...reviewed(), usage: { total_tokens: 1, cost_usd: '0.1' } }],
      ['total_tokens as null', { ...reviewed(), usage: { total_tokens: null, cost_usd: null } }],
      ['usage as null', { ...reviewed(), usage: null }],
      ['explanation as null', { kind: 'explain', status: 'ok', explanation: null }],
      ['message as a number', { kind: 'review', status: 'error', message: 404 }],
      ['cleared as a string', { kind: 'clearCache', status: 'ok', cleared: '3' }],
      ['kind as a number', { kind: 1, status: 'ok' }],
      ['files as a string', { ...changesReviewed(), files: '2' }],
      ['a skipped file without a reason', { ...changesReviewed(), skipped: [{ path: 'a.py' }] }],
      ['skipped as a string', { ...changesReviewed(), skipped: 'gone.py' }],
    ];
    for (const [what, value] of rejected) {
      assert.strictEqual(parseResult(value), undefined, what);
    }
  });
});
