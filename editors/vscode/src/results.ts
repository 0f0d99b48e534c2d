/**
 * What the server's `fusion.*` commands answer, as one discriminated union on `kind` and
 * `status`, and `parseResult`, which checks an answer field by field before the rest of the
 * extension reads it. The shapes mirror the pydantic models in `fusion_ls/lsp/results.py`
 * (one interface per model, same field names); a Python test reads this file and compares them.
 */

export type Mode = 'best-of' | 'merge' | 'debate';

export type ModelStatus =
  | 'ok'
  | 'error'
  | 'timeout'
  | 'invalid'
  | 'truncated'
  | 'cancelled'
  | 'late'
  | 'skipped';

/** One pool model's part in a review. */
export interface ModelState {
  model: string;
  status: ModelStatus;
  cached: boolean;
}

export interface UsageSummary {
  total_tokens: number;
  cost_usd: number | null;
}

/** A review landed: `findings` are shown now, `stale` were dropped because their text changed. */
export interface Reviewed {
  kind: 'review';
  status: 'ok';
  findings: number;
  stale: number;
  degraded: boolean;
  mode: Mode;
  models: ModelState[];
  elapsed_s: number;
  usage: UsageSummary;
}

/** A changed file a review of changes left out, and why (deleted, binary, excluded…). */
export interface NotReviewed {
  path: string;
  reason: string;
}

/** A review of the uncommitted changes landed on `files` files; `skipped` says what was left out. */
export interface ChangesReviewed {
  kind: 'reviewChanges';
  status: 'ok';
  files: number;
  findings: number;
  stale: number;
  skipped: NotReviewed[];
  elapsed_s: number;
  usage: UsageSummary;
}

export interface Explained {
  kind: 'explain';
  status: 'ok';
  explanation: string;
}

/** Nothing was published: cancelled, the document changed too much, or an error (`message`). */
export interface NotDone {
  kind: 'review' | 'explain' | 'reviewChanges';
  status: 'cancelled' | 'stale' | 'error';
  message: string | null;
}

export interface Cleared {
  kind: 'clear';
  status: 'ok';
}

export interface CacheCleared {
  kind: 'clearCache';
  status: 'ok';
  cleared: number;
}

/** Findings taken off a document; `baseline` is where they were recorded (null: an inline comment). */
export interface Dismissed {
  kind: 'dismiss';
  status: 'ok' | 'error';
  dismissed: number;
  baseline: string | null;
  message: string | null;
}

export type CommandResult =
  | Reviewed
  | ChangesReviewed
  | Explained
  | NotDone
  | Cleared
  | CacheCleared
  | Dismissed;

// Records, so that the compiler insists on every member of each union.
const MODES: Readonly<Record<Mode, true>> = { 'best-of': true, merge: true, debate: true };
const MODEL_STATUSES: Readonly<Record<ModelStatus, true>> = {
  ok: true,
  error: true,
  timeout: true,
  invalid: true,
  truncated: true,
  cancelled: true,
  late: true,
  skipped: true,
};
const NOT_DONE: Readonly<Record<NotDone['status'], true>> = { cancelled: true, stale: true, error: true };

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown): value is number {
  return Number.isInteger(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isOneOf<T extends string>(value: unknown, allowed: Readonly<Record<T, true>>): value is T {
  return typeof value === 'string' && Object.hasOwn(allowed, value);
}

function parseModelState(value: unknown): ModelState | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const { model, status, cached } = value;
  if (typeof model !== 'string' || !isOneOf(status, MODEL_STATUSES) || typeof cached !== 'boolean') {
    return undefined;
  }
  return { model, status, cached };
}

function parseUsage(value: unknown): UsageSummary | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const { total_tokens, cost_usd } = value;
  if (!isInt(total_tokens) || !(cost_usd === null || isNumber(cost_usd))) {
    return undefined;
  }
  return { total_tokens, cost_usd };
}

function parseReviewed(value: Fields): Reviewed | undefined {
  const { findings, stale, degraded, mode, models, elapsed_s } = value;
  if (
    !isInt(findings) ||
    !isInt(stale) ||
    typeof degraded !== 'boolean' ||
    !isOneOf(mode, MODES) ||
    !Array.isArray(models) ||
    !isNumber(elapsed_s)
  ) {
    return undefined;
  }
  const states = models.map(parseModelState);
  const usage = parseUsage(value.usage);
  if (usage === undefined || !states.every((state): state is ModelState => state !== undefined)) {
    return undefined;
  }
  return { kind: 'review', status: 'ok', findings, stale, degraded, mode, models: states, elapsed_s, usage };
}

function parseNotReviewed(value: unknown): NotReviewed | undefined {
  if (!isObject(value) || typeof value.path !== 'string' || typeof value.reason !== 'string') {
    return undefined;
  }
  return { path: value.path, reason: value.reason };
}

function parseChangesReviewed(value: Fields): ChangesReviewed | undefined {
  const { files, findings, stale, skipped, elapsed_s } = value;
  if (!isInt(files) || !isInt(findings) || !isInt(stale) || !Array.isArray(skipped) || !isNumber(elapsed_s)) {
    return undefined;
  }
  const left = skipped.map(parseNotReviewed);
  const usage = parseUsage(value.usage);
  if (usage === undefined || !left.every((item): item is NotReviewed => item !== undefined)) {
    return undefined;
  }
  return { kind: 'reviewChanges', status: 'ok', files, findings, stale, skipped: left, elapsed_s, usage };
}

/** `message` may be left out (the model's default is None) but, when present, is a string or null. */
function parseNotDone(kind: NotDone['kind'], value: Fields): NotDone | undefined {
  const { status, message } = value;
  if (!isOneOf(status, NOT_DONE)) {
    return undefined;
  }
  if (message !== undefined && message !== null && typeof message !== 'string') {
    return undefined;
  }
  return { kind, status, message: message ?? null };
}

function parseDismissed(value: Fields): Dismissed | undefined {
  const { status, dismissed, baseline, message } = value;
  const text = (field: unknown): field is string | null | undefined =>
    field === undefined || field === null || typeof field === 'string';
  if ((status !== 'ok' && status !== 'error') || !isInt(dismissed) || !text(baseline) || !text(message)) {
    return undefined;
  }
  return { kind: 'dismiss', status, dismissed, baseline: baseline ?? null, message: message ?? null };
}

/**
 * A command's answer as a `CommandResult`, or undefined when it is not one: an unknown `kind` or
 * `status`, a missing field or one of the wrong type. The result holds only the declared fields.
 */
export function parseResult(value: unknown): CommandResult | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const { kind, status } = value;
  switch (kind) {
    case 'review':
      return status === 'ok' ? parseReviewed(value) : parseNotDone(kind, value);
    case 'reviewChanges':
      return status === 'ok' ? parseChangesReviewed(value) : parseNotDone(kind, value);
    case 'explain':
      if (status !== 'ok') {
        return parseNotDone(kind, value);
      }
      return typeof value.explanation === 'string'
        ? { kind, status, explanation: value.explanation }
        : undefined;
    case 'clear':
      return status === 'ok' ? { kind, status } : undefined;
    case 'clearCache':
      return status === 'ok' && isInt(value.cleared) ? { kind, status, cleared: value.cleared } : undefined;
    case 'dismiss':
      return parseDismissed(value);
    default:
      return undefined;
  }
}
