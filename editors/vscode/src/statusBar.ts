/**
 * The status-bar item as a state machine: events in (server state, commands sent and answered,
 * the server's work-done progress), a view out (text, tooltip, click command). The model is pure;
 * `StatusBar` only copies its view onto a `vscode.StatusBarItem`.
 */
import type * as vscode from 'vscode';
import type {
  ProgressToken,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { COMMANDS, OPEN_SETTINGS, type Action } from './ids';
import type { ChangesReviewed, CommandResult, Reviewed } from './results';
import { COMMAND_SETTING } from './serverOptions';

export type ServerState = 'starting' | 'running' | 'stopped' | 'missing' | 'failed';

/** Lines of a document, 0-based and inclusive. */
export interface LineSpan {
  start: number;
  end: number;
}

/** What a command covered: a document (its URI as the server knows it) and the selected lines, if any. */
export interface Scope {
  uri: string;
  lines?: LineSpan;
}

export type StatusEvent =
  | { type: 'server'; state: ServerState; detail?: string }
  | { type: 'sent'; action: Action }
  | { type: 'answered'; action: Action; result: CommandResult | undefined; error?: string; scope?: Scope }
  | {
      type: 'progress';
      token: ProgressToken;
      value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;
    }
  /** The Fusion findings a document shows now (after a quick fix, an edit, a later review). */
  | { type: 'diagnostics'; uri: string; findings: LineSpan[] }
  /** Something was done to a document that may take findings off it: an edit, closing it, a dismissal, a command on it. */
  | { type: 'touched'; uri: string };

export interface StatusCommand {
  command: string;
  title: string;
  arguments?: unknown[];
}

export interface StatusView {
  text: string;
  tooltip: string;
  command: StatusCommand | undefined;
}

const IDLE = '$(sparkle) Fusion';
const BUSY = '$(sync~spin) Fusion';
const MAX_TEXT = 60;

const SHOW_OUTPUT: StatusCommand = { command: COMMANDS.showOutput, title: 'Show Fusion output' };

interface Summary {
  text: string;
  tooltip: string;
  icon: string;
  failed?: boolean;
  /** A landed review, kept so that its count can follow the findings the editor still shows. */
  review?: { result: Reviewed; scope: Scope };
  /**
   * A landed review of changes, kept so that its count follows its files: the answer does not
   * say which file holds which finding, so each finding a file loses once it is touched (a
   * dismissal, a quick fix, Clear Findings) is taken off.
   */
  changes?: ChangesReviewed;
}

export class StatusModel {
  private server: ServerState = 'starting';
  private serverDetail = '';
  /** Running work-done progresses, in the order they last reported: token → latest message. */
  private readonly progress = new Map<ProgressToken, string>();
  /** Commands sent and not answered yet. */
  private readonly pending: Action[] = [];
  private summary: Summary | undefined;
  /** How many Fusion findings each document shows now, as last heard (documents with none left out). */
  private readonly shown = new Map<string, number>();
  /**
   * Documents touched since the last review of changes landed. Only their losses count: the
   * editor reports the review's own diagnostics late (after its answer, debounced), and a file
   * whose earlier findings the review replaced with fewer has lost nothing of the review's.
   */
  private readonly touched = new Set<string>();

  apply(event: StatusEvent): StatusView {
    switch (event.type) {
      case 'server':
        this.server = event.state;
        this.serverDetail = event.detail ?? '';
        if (event.state !== 'running') {
          this.progress.clear();
        }
        if (event.state === 'starting') {
          this.summary = undefined; // a new server: the last one's outcome (and findings) are gone
        }
        break;
      case 'sent':
        this.pending.push(event.action);
        break;
      case 'answered': {
        const index = this.pending.indexOf(event.action);
        if (index >= 0) {
          this.pending.splice(index, 1);
        }
        this.onAnswer(event.result, event.error, event.scope);
        break;
      }
      case 'progress':
        this.onProgress(event.token, event.value);
        break;
      case 'diagnostics':
        this.recount(event.uri, event.findings);
        break;
      case 'touched':
        if (this.summary?.changes !== undefined) {
          this.touched.add(event.uri);
        }
        break;
    }
    return this.view();
  }

  private onAnswer(result: CommandResult | undefined, error: string | undefined, scope: Scope | undefined): void {
    if (result?.kind === 'clear' && result.status === 'ok' && error === undefined && this.outlivesClear(scope)) {
      return; // the summary's count follows the cleared document's findings going
    }
    this.summary = summarize(result, error);
    if (this.summary === undefined || result?.status !== 'ok' || error !== undefined) {
      return;
    }
    if (result.kind === 'review' && scope !== undefined) {
      this.summary.review = { result, scope };
    } else if (result.kind === 'reviewChanges') {
      this.summary.changes = result;
      this.touched.clear();
    }
  }

  /**
   * Clear Findings takes one document's findings off: a summary that still counts findings in
   * other documents stays. (The cleared document's diagnostics may be reported before or after
   * the answer, so its count is taken off here in advance.)
   */
  private outlivesClear(scope: Scope | undefined): boolean {
    const { review, changes } = this.summary ?? {};
    if (changes !== undefined) {
      return changes.findings - (scope === undefined ? 0 : (this.shown.get(scope.uri) ?? 0)) > 0;
    }
    return review !== undefined && review.scope.uri !== scope?.uri;
  }

  private onProgress(
    token: ProgressToken,
    value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd,
  ): void {
    if (value.kind === 'end') {
      // A command's own answer says more; the end message speaks for work no command started.
      if (this.progress.delete(token) && value.message && this.pending.length === 0) {
        this.summary = { text: value.message, tooltip: value.message, icon: IDLE };
      }
      return;
    }
    const previous = this.progress.get(token);
    const message =
      value.message ?? previous ?? (value.kind === 'begin' ? value.title.replace(/^Fusion:\s*/, '') + '…' : '…');
    this.progress.delete(token); // re-insert: the latest report is shown
    this.progress.set(token, message);
  }

  /**
   * The last review's count follows its findings still shown in the reviewed lines; the last
   * review of changes loses as many findings as a document does.
   */
  private recount(uri: string, findings: LineSpan[]): void {
    const before = this.shown.get(uri) ?? 0;
    if (findings.length > 0) {
      this.shown.set(uri, findings.length);
    } else {
      this.shown.delete(uri);
    }
    const changes = this.summary?.changes;
    if (changes !== undefined && findings.length < before && this.touched.has(uri)) {
      const left = { ...changes, findings: Math.max(0, changes.findings - (before - findings.length)) };
      this.summary = { ...summarizeChanges(left), changes: left };
    }
    const review = this.summary?.review;
    if (review === undefined || review.scope.uri !== uri) {
      return;
    }
    const lines = review.scope.lines;
    const count = findings.filter((f) => lines === undefined || (f.start <= lines.end && f.end >= lines.start)).length;
    this.summary = { ...summarizeReview({ ...review.result, findings: count }), review };
  }

  view(): StatusView {
    const busy = Math.max(this.progress.size, this.pending.length);
    if (busy > 0) {
      const messages = [...this.progress.values()];
      const latest = messages[messages.length - 1] ?? verb(this.pending[this.pending.length - 1]);
      const more = busy > 1 ? ` (+${busy - 1})` : '';
      return {
        text: `${BUSY}: ${shorten(latest)}${more}`,
        tooltip: ['Fusion is working — click to cancel.', ...messages].join('\n'),
        command: { command: COMMANDS.cancel, title: 'Cancel Fusion reviews' },
      };
    }
    switch (this.server) {
      case 'missing':
        return {
          text: '$(warning) Fusion',
          tooltip: `fusion-ls was not found. Click to set ${COMMAND_SETTING}.`,
          command: { command: OPEN_SETTINGS, title: 'Open setting', arguments: [COMMAND_SETTING] },
        };
      case 'failed':
        return {
          text: '$(error) Fusion',
          tooltip: `fusion-ls failed to start${this.serverDetail ? `: ${this.serverDetail}` : ''}. Click to show the output.`,
          command: SHOW_OUTPUT,
        };
      case 'stopped':
        return {
          text: '$(circle-slash) Fusion',
          tooltip: 'The fusion-ls server stopped. Click to restart it.',
          command: { command: COMMANDS.restartServer, title: 'Restart fusion-ls' },
        };
      case 'starting':
        return { text: BUSY, tooltip: 'Starting fusion-ls…', command: SHOW_OUTPUT };
      case 'running':
        break;
    }
    if (this.summary === undefined) {
      return {
        text: IDLE,
        tooltip: 'Fusion: select code and run "Fusion: Review Selection", or use the light bulb.',
        command: SHOW_OUTPUT,
      };
    }
    return {
      text: `${this.summary.icon}: ${shorten(this.summary.text)}`,
      tooltip: `Last Fusion run: ${this.summary.tooltip}`,
      command: SHOW_OUTPUT,
    };
  }
}

function verb(action: Action | undefined): string {
  switch (action) {
    case 'explain':
      return 'explaining…';
    case 'clear':
      return 'clearing…';
    case 'reviewChanges':
      return 'reviewing changes…';
    default:
      return 'reviewing…';
  }
}

function shorten(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The last run in a few words for the bar, and everything the result carries for the tooltip. */
export function summarize(result: CommandResult | undefined, error?: string): Summary | undefined {
  if (error !== undefined) {
    return { text: 'failed', tooltip: error, icon: '$(warning) Fusion', failed: true };
  }
  if (result === undefined) {
    return { text: 'no answer', tooltip: 'the server sent no result (cancelled or stopped)', icon: IDLE };
  }
  switch (result.status) {
    case 'ok':
      break;
    case 'cancelled':
      return { text: 'cancelled', tooltip: 'cancelled', icon: IDLE };
    case 'stale':
      return {
        text: 'results dropped',
        tooltip: 'the file changed while the models worked; the results no longer fit the text and were dropped',
        icon: IDLE,
      };
    case 'error':
      return {
        text: 'failed',
        tooltip: result.message ?? 'the server reported an error',
        icon: '$(warning) Fusion',
        failed: true,
      };
  }
  switch (result.kind) {
    case 'clear':
      return undefined;
    case 'clearCache':
      return { text: 'cache cleared', tooltip: `cleared ${plural(result.cleared, 'cached answer')}`, icon: IDLE };
    case 'explain':
      return { text: 'explained', tooltip: 'explained — hover over the explained lines to read it', icon: IDLE };
    case 'review':
      return summarizeReview(result);
    case 'reviewChanges':
      return summarizeChanges(result);
  }
}

/** Findings and files in the bar; what was left out, time, tokens and cost in the tooltip. */
function summarizeChanges(result: ChangesReviewed): Summary {
  if (result.files === 0 && result.skipped.length === 0) {
    return { text: 'no changes', tooltip: 'no uncommitted changes to review', icon: IDLE };
  }
  const head = [`${plural(result.findings, 'finding')} in ${plural(result.files, 'changed file')}`];
  if (result.stale > 0) {
    head.push(`${result.stale} dropped after edits`);
  }
  const cost = result.usage.cost_usd === null ? [] : [`$${result.usage.cost_usd.toFixed(4)}`];
  const left = result.skipped.map((item) => `${item.path}: ${item.reason}`);
  const details = [`${result.elapsed_s.toFixed(1)} s`, plural(result.usage.total_tokens, 'token'), ...cost];
  const tooltip = [[...head, ...details].join(' · '), ...(left.length > 0 ? ['not reviewed:', ...left] : [])];
  return { text: [...head, ...cost].join(' · '), tooltip: tooltip.join('\n'), icon: IDLE };
}

/** Count, edits and degradation, then cost in the bar; mode, models, time, tokens and cost in the tooltip. */
function summarizeReview(result: Reviewed): Summary {
  const head = [plural(result.findings, 'finding')];
  if (result.stale > 0) {
    head.push(`${result.stale} dropped after edits`);
  }
  if (result.degraded) {
    head.push('degraded');
  }
  const cost = result.usage.cost_usd === null ? [] : [`$${result.usage.cost_usd.toFixed(4)}`];
  const answered = result.models.filter((m) => m.status === 'ok').length;
  const details = [
    result.mode,
    `${answered}/${result.models.length} models answered`,
    `${result.elapsed_s.toFixed(1)} s`,
    plural(result.usage.total_tokens, 'token'),
  ];
  return { text: [...head, ...cost].join(' · '), tooltip: [...head, ...details, ...cost].join(' · '), icon: IDLE };
}

/**
 * The scope of a server command from its arguments (`[uri]` or `[uri, range]`). A selection that
 * ends at the start of a line (whole lines selected) does not cover that line.
 */
export function scopeOf(args: unknown[]): Scope | undefined {
  const [uri, range] = args;
  if (typeof uri !== 'string') {
    return undefined;
  }
  if (!isRange(range)) {
    return { uri };
  }
  const { start, end } = range;
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  return { uri, lines: { start: start.line, end: last } };
}

interface RangeLike {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

function isRange(value: unknown): value is RangeLike {
  const range = value as Partial<RangeLike> | undefined;
  return typeof range?.start?.line === 'number' && typeof range.end?.line === 'number';
}

/** Copies the model's view onto a real status-bar item. */
export class StatusBar {
  private readonly model = new StatusModel();

  constructor(private readonly item: vscode.StatusBarItem) {
    item.name = 'Fusion';
    this.render(this.model.view());
    item.show();
  }

  apply(event: StatusEvent): void {
    this.render(this.model.apply(event));
  }

  private render(view: StatusView): void {
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
  }

  dispose(): void {
    this.item.dispose();
  }
}
