/**
 * A stand-in for `vscode-languageclient/node`: a `LanguageClient` that spawns nothing, records
 * what it was built with and sent, and answers requests as the test scripts. It mirrors the few
 * behaviours of the real client (v11) the extension relies on: a start failure leaves the client
 * in `State.StartFailed` and goes through `error(…, 'force')`, errors are logged to the
 * `LogOutputChannel` with `error`, `dispose()` of a client that is starting or failed to start
 * rejects, work-done progress passes through `middleware.handleWorkDoneProgress`, and the server's
 * stdout/stderr go through `stdioOptions` (by default: stderr lines logged with `error`).
 * `test/setup.ts` makes `require('vscode-languageclient/node')` load this file.
 */
import * as readline from 'readline';
import { Readable } from 'stream';
import type * as vscode from 'vscode';
import type {
  ErrorHandler,
  Executable,
  LanguageClientOptions,
  ProgressToken,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { reviewed } from '../fixtures';
import { EventEmitter, LogOutputChannel, type CancellationToken, type Range, type Uri } from './vscode';

export enum State {
  Stopped = 1,
  Starting = 3,
  StartFailed = 4,
  Running = 2,
}
export enum ErrorAction {
  Continue = 1,
  Shutdown = 2,
}
export enum CloseAction {
  DoNotRestart = 1,
  Restart = 2,
}
export enum MessageType {
  Error = 1,
  Warning = 2,
  Info = 3,
  Log = 4,
}
export const ShowMessageNotification = { method: 'window/showMessage', type: { method: 'window/showMessage' } };

export interface SentRequest {
  method: string;
  params: unknown;
  token: CancellationToken | undefined;
}

type Responder = (request: SentRequest) => Promise<unknown>;

/** Scripted behaviour for the next clients, and every client built so far. */
export const clients = {
  built: [] as LanguageClient[],
  start: (): Promise<void> => Promise.resolve(),
  respond: ((): Promise<unknown> => Promise.resolve(reviewed())) as Responder,
  reset(): void {
    this.built.length = 0;
    this.start = () => Promise.resolve();
    this.respond = () => Promise.resolve(reviewed());
  },
  get last(): LanguageClient {
    const client = this.built[this.built.length - 1];
    if (client === undefined) {
      throw new Error('no LanguageClient was created');
    }
    return client;
  },
};

export class LanguageClient {
  readonly requests: SentRequest[] = [];
  readonly errors: Array<{ message: string; show: boolean | 'force' | undefined }> = [];
  /** Progress values the library's own progress UI would have received (after the middleware). */
  readonly shownProgress: unknown[] = [];
  state: State = State.Stopped;
  disposed = false;
  private readonly options: LanguageClientOptions;
  private ownChannel: LogOutputChannel | undefined;
  private readonly stateChanged = new EventEmitter<{ oldState: State; newState: State }>();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: Executable,
    options: LanguageClientOptions,
  ) {
    this.options = { ...options };
    clients.built.push(this);
  }

  get clientOptions(): LanguageClientOptions {
    return this.options;
  }

  get onDidChangeState() {
    return this.stateChanged.event;
  }

  /** The configured channel, else one the client creates (`createOutputChannel(name, { log: true })`). */
  get outputChannel(): vscode.LogOutputChannel {
    if (this.options.outputChannel !== undefined) {
      return this.options.outputChannel;
    }
    this.ownChannel ??= new LogOutputChannel(this.name);
    return this.ownChannel as unknown as vscode.LogOutputChannel;
  }

  readonly code2ProtocolConverter = {
    asUri: (uri: Uri): string => uri.toString(),
    asRange: (range: Range) => ({
      start: { line: range.start.line, character: range.start.character },
      end: { line: range.end.line, character: range.end.character },
    }),
  };

  async start(): Promise<void> {
    this.setState(State.Starting);
    try {
      await clients.start();
    } catch (error) {
      this.setState(State.StartFailed);
      this.error(`${this.name} client: couldn't create connection to server.`, error, 'force');
      throw error;
    }
    this.setState(State.Running);
  }

  error(message: string, _data?: unknown, showNotification: boolean | 'force' = true): void {
    this.outputChannel.error(message);
    this.errors.push({ message, show: showNotification });
  }

  /** Like the real one: nothing to do when stopped, rejects unless running. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.state === State.Stopped) {
      return;
    }
    if (this.state !== State.Running) {
      throw new Error(`Client is not running and can't be stopped. It's current state is: ${this.state}`);
    }
    this.setState(State.Stopped);
  }

  sendRequest<R>(method: string, params: unknown, token?: CancellationToken): Promise<R> {
    const request = { method, params, token };
    this.requests.push(request);
    return clients.respond(request) as Promise<R>;
  }

  readonly notifications: Array<{ method: string; params: unknown }> = [];
  /** Handlers for server notifications, by method (the library's own are not modelled). */
  readonly notificationHandlers = new Map<string, (params: never) => void>();

  onNotification(type: { method: string }, handler: (params: never) => void): { dispose(): void } {
    this.notificationHandlers.set(type.method, handler);
    return { dispose: () => this.notificationHandlers.delete(type.method) };
  }

  /** The server sends a notification, e.g. `window/showMessage`. */
  serverNotification(method: string, params: unknown): void {
    const handler = this.notificationHandlers.get(method);
    if (handler === undefined) {
      throw new Error(`no handler for ${method}`);
    }
    handler(params as never);
  }

  sendNotification(method: string, params: unknown): Promise<void> {
    this.notifications.push({ method, params });
    return Promise.resolve();
  }

  /** VS Code runs a server command for a code action: through `middleware.executeCommand`, if any. */
  runServerCommand(command: string, args: unknown[]): Promise<unknown> {
    const next = (c: string, a: unknown[]) => this.sendRequest('workspace/executeCommand', { command: c, arguments: a });
    const middleware = this.options.middleware?.executeCommand;
    return Promise.resolve(middleware ? middleware(command, args, next) : next(command, args));
  }

  /** The server sends `$/progress` for a token it created with window/workDoneProgress/create. */
  progress(token: ProgressToken, value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd): void {
    const handler = this.options.middleware?.handleWorkDoneProgress;
    const next = () => this.shownProgress.push(value);
    if (handler !== undefined) {
      handler(token, value, next);
    } else {
      next();
    }
  }

  /** The server process writes `text` to stderr; resolves once every line has been handled. */
  async serverStderr(text: string): Promise<void> {
    const input = Readable.from([text]);
    const closed = new Promise((resolve) => input.once('close', resolve));
    const stderr =
      this.options.stdioOptions?.stderr ??
      ((stream: Readable, channel: vscode.LogOutputChannel) =>
        readline.createInterface({ input: stream, crlfDelay: Infinity, terminal: false }).on('line', (line) => channel.error(line)));
    stderr(input, this.outputChannel);
    await closed;
    await new Promise((resolve) => setImmediate(resolve));
  }

  get errorHandler(): ErrorHandler | undefined {
    return this.options.errorHandler;
  }

  /** The server process went away (`crash`) or came back. */
  setState(newState: State): void {
    const oldState = this.state;
    this.state = newState;
    this.stateChanged.fire({ oldState, newState });
  }
}
