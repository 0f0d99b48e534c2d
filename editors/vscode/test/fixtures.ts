/** Well-formed server results for the tests, as `model_dump(mode="json")` would send them. */
import type { ChangesReviewed, Reviewed } from '../src/results';

/** A review with one model, no findings and no cost; `fields` override any of that. */
export function reviewed(fields: Partial<Reviewed> = {}): Reviewed {
  return {
    kind: 'review',
    status: 'ok',
    findings: 0,
    stale: 0,
    degraded: false,
    mode: 'merge',
    models: [{ model: 'anthropic/claude-sonnet-4.5', status: 'ok', cached: false }],
    elapsed_s: 4.2,
    usage: { total_tokens: 1200, cost_usd: null },
    ...fields,
  };
}

/** A review of changes on two files, one deleted file left out; `fields` override any of that. */
export function changesReviewed(fields: Partial<ChangesReviewed> = {}): ChangesReviewed {
  return {
    kind: 'reviewChanges',
    status: 'ok',
    files: 2,
    findings: 3,
    stale: 0,
    skipped: [{ path: 'gone.py', reason: 'deleted' }],
    elapsed_s: 6.5,
    usage: { total_tokens: 3000, cost_usd: 0.012 },
    ...fields,
  };
}
