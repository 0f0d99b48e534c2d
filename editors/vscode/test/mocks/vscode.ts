/**
 * A hand-written stand-in for the `vscode` module: only what the extension touches, plus a
 * `mock` object through which tests set the editor's state and read what the extension did.
 * `test/setup.ts` makes `require('vscode')` load this file.
 */

import * as fs from 'fs';
import * as path from 'path';

/** Defaults as VS Code takes them: from package.json's `contributes.configuration`. */
const DEFAULTS: Record<string, unknown> = (() => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
  };
  const properties = manifest.contributes.configuration.properties;
  return Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, schema.default]));
})();

export interface Disposable {
  dispose(): void;
}

type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private listeners: Array<Listener<T>> = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }
  get size(): number {
    return this.listeners.length;
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static from(parts: { scheme: string; path: string }): Uri {
    return new Uri(parts.scheme, parts.path);
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export interface CancellationToken {
  isCancellationRequested: boolean;
  onCancellationRequested: (listener: Listener<void>) => Disposable;
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token: CancellationToken = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export class StatusBarItem {
  name: string | undefined;
  text = '';
  tooltip: string | undefined;
  command: unknown;
  visible = false;
  disposed = false;
  readonly history: string[] = [];
  constructor(
    readonly alignment: StatusBarAlignment,
    readonly priority: number | undefined,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
  }
}

export class OutputChannel {
  readonly lines: string[] = [];
  shown = 0;
  constructor(readonly name: string) {}
  append(text: string): void {
    this.lines.push(text);
  }
  appendLine(text: string): void {
    this.lines.push(text);
  }
  show(): void {
    this.shown += 1;
  }
  dispose(): void {}
}

export enum LogLevel {
  Off = 0,
  Trace = 1,
  Debug = 2,
  Info = 3,
  Warning = 4,
  Error = 5,
}

export type LogMethod = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** `createOutputChannel(name, { log: true })`: lines are logged with a level; `append*` log `info`. */
export class LogOutputChannel extends OutputChannel {
  readonly logged: Array<{ level: LogMethod; message: string }> = [];
  logLevel = LogLevel.Info;
  private readonly levelChanged = new EventEmitter<LogLevel>();
  readonly onDidChangeLogLevel = this.levelChanged.event;
  override append(text: string): void {
    this.info(text);
  }
  override appendLine(text: string): void {
    this.info(text);
  }
  trace(message: string): void {
    this.log('trace', message);
  }
  debug(message: string): void {
    this.log('debug', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  warn(message: string): void {
    this.log('warn', message);
  }
  error(error: string | Error): void {
    this.log('error', typeof error === 'string' ? error : error.message);
  }
  private log(level: LogMethod, message: string): void {
    this.logged.push({ level, message });
    this.lines.push(message);
  }
}

export interface ShownMessage {
  kind: 'error' | 'warning' | 'info';
  text: string;
  items: string[];
}

export interface Diagnostic {
  range: Range;
  message: string;
  source?: string;
}

export interface TextEditor {
  document: { uri: Uri; languageId: string };
  selection: Selection;
}

export interface ConfigurationChangeEvent {
  affectsConfiguration(section: string): boolean;
}

/** What the tests control and inspect. */
export const mock = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  executed: [] as Array<{ command: string; args: unknown[] }>,
  messages: [] as ShownMessage[],
  /** The button the "user" clicks on the next messages (undefined: dismissed). */
  answer: undefined as string | undefined,
  settings: {} as Record<string, unknown>,
  statusItems: [] as StatusBarItem[],
  outputs: [] as OutputChannel[],
  configChanged: new EventEmitter<ConfigurationChangeEvent>(),
  trustGranted: new EventEmitter<void>(),
  /** Diagnostics by URI string, as `languages.getDiagnostics` returns them. */
  diagnostics: new Map<string, Diagnostic[]>(),
  diagnosticsChanged: new EventEmitter<{ uris: Uri[] }>(),
  documentChanged: new EventEmitter<{ document: { uri: Uri } }>(),
  documentClosed: new EventEmitter<{ uri: Uri }>(),

  reset(): void {
    this.commands.clear();
    this.executed.length = 0;
    this.messages.length = 0;
    this.answer = undefined;
    this.settings = {};
    this.statusItems.length = 0;
    this.outputs.length = 0;
    this.configChanged.dispose();
    this.trustGranted.dispose();
    this.diagnostics.clear();
    this.diagnosticsChanged.dispose();
    this.documentChanged.dispose();
    this.documentClosed.dispose();
    window.activeTextEditor = undefined;
    workspace.isTrusted = true;
    workspace.workspaceFolders = undefined;
  },

  /** Changes settings (keys as "fusion.mode") and fires the change event for their sections. */
  changeSettings(values: Record<string, unknown>): void {
    Object.assign(this.settings, values);
    const keys = Object.keys(values);
    this.configChanged.fire({
      affectsConfiguration: (section: string) =>
        keys.some((key) => key === section || key.startsWith(`${section}.`)),
    });
  },

  /** The editor's diagnostics of `uri` change (a publish, an edit, a quick fix). */
  setDiagnostics(uri: Uri, diagnostics: Diagnostic[]): void {
    this.diagnostics.set(uri.toString(), diagnostics);
    this.diagnosticsChanged.fire({ uris: [uri] });
  },

  editor(path: string, selection: [number, number, number, number], scheme = 'file'): TextEditor {
    const [a, b, c, d] = selection;
    const editor: TextEditor = {
      document: { uri: Uri.from({ scheme, path }), languageId: 'python' },
      selection: new Selection(new Position(a, b), new Position(c, d)),
    };
    window.activeTextEditor = editor;
    return editor;
  },
};

function show(kind: ShownMessage['kind']) {
  return (text: string, ...items: string[]): Promise<string | undefined> => {
    mock.messages.push({ kind, text, items });
    return Promise.resolve(mock.answer !== undefined && items.includes(mock.answer) ? mock.answer : undefined);
  };
}

export const window = {
  activeTextEditor: undefined as TextEditor | undefined,
  showErrorMessage: show('error'),
  showWarningMessage: show('warning'),
  showInformationMessage: show('info'),
  createStatusBarItem(alignment: StatusBarAlignment, priority?: number): StatusBarItem {
    const item = new StatusBarItem(alignment, priority);
    const history = item.history;
    let text = '';
    Object.defineProperty(item, 'text', {
      get: () => text,
      set: (value: string) => {
        text = value;
        history.push(value);
      },
    });
    mock.statusItems.push(item);
    return item;
  },
  createOutputChannel(name: string, options?: string | { log: true }): OutputChannel {
    const channel = typeof options === 'object' && options.log ? new LogOutputChannel(name) : new OutputChannel(name);
    mock.outputs.push(channel);
    return channel;
  },
};

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (mock.commands.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    mock.commands.set(id, handler);
    return { dispose: () => mock.commands.delete(id) };
  },
  executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    mock.executed.push({ command, args });
    const handler = mock.commands.get(command);
    return Promise.resolve(handler?.(...args));
  },
};

export const languages = {
  getDiagnostics(uri: Uri): Diagnostic[] {
    return mock.diagnostics.get(uri.toString()) ?? [];
  },
  onDidChangeDiagnostics(listener: Listener<{ uris: Uri[] }>): Disposable {
    return mock.diagnosticsChanged.event(listener);
  },
};

export const workspace = {
  isTrusted: true,
  workspaceFolders: undefined as Array<{ uri: Uri; name: string; index: number }> | undefined,
  getConfiguration(section?: string) {
    const prefix = section ? `${section}.` : '';
    return {
      get<T>(key: string, fallback?: T): T | undefined {
        const full = prefix + key;
        if (full in mock.settings) {
          return mock.settings[full] as T;
        }
        return full in DEFAULTS ? (DEFAULTS[full] as T) : fallback;
      },
    };
  },
  onDidChangeConfiguration(listener: Listener<ConfigurationChangeEvent>): Disposable {
    return mock.configChanged.event(listener);
  },
  onDidGrantWorkspaceTrust(listener: Listener<void>): Disposable {
    return mock.trustGranted.event(listener);
  },
  onDidChangeTextDocument(listener: Listener<{ document: { uri: Uri } }>): Disposable {
    return mock.documentChanged.event(listener);
  },
  onDidCloseTextDocument(listener: Listener<{ uri: Uri }>): Disposable {
    return mock.documentClosed.event(listener);
  },
};
