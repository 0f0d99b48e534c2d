/**
 * The one module that creates a real `LanguageClient`. The rest of the extension sees the
 * `FusionClient` interface, which the tests replace.
 */
import * as readline from 'readline';
import type { Readable } from 'stream';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  MessageType,
  ShowMessageNotification,
  State,
  type ShowMessageParams,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type Executable,
  type LanguageClientOptions,
  type Range as ProtocolRange,
  type StdioOptions,
} from 'vscode-languageclient/node';

export const CLIENT_ID = 'fusion'; // also the prefix of the `fusion.trace.server` setting
export const CLIENT_NAME = 'fusion-ls';
/** The `source` of the server's diagnostics (`fusion_ls/lsp/mapping.py`). */
export const DIAGNOSTIC_SOURCE = 'fusion';

export type ClientState = 'starting' | 'running' | 'stopped' | 'failed';

/** What the extension uses of a language client. */
export interface FusionClient {
  start(): Promise<void>;
  dispose(timeout?: number): Promise<void>;
  sendRequest<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
  sendNotification(method: string, params: unknown): Promise<void>;
  readonly code2ProtocolConverter: {
    asUri(uri: vscode.Uri): string;
    asRange(range: vscode.Range): ProtocolRange;
  };
  onStateChange(listener: (state: ClientState) => void): vscode.Disposable;
}

export type ClientFactory = (server: Executable, options: LanguageClientOptions) => FusionClient;

/**
 * The server's stderr is its log, each line with the server's own level: logged as `info`
 * (vscode-languageclient ≥ 10 would log every stderr line as an error). stdout carries LSP over
 * stdio; only other transports would hand it here.
 */
export const SERVER_STDIO: Required<StdioOptions> = {
  stdout: (input, channel) => forEachLine(input, (line) => channel.info(line)),
  stderr: (input, channel) => forEachLine(input, (line) => channel.info(line)),
};

function forEachLine(input: Readable, log: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 }).on('line', log);
}

const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/**
 * A client that leaves start failures to the extension (which shows one actionable
 * notification instead of the library's generic "couldn't create connection").
 */
export class FusionLanguageClient extends LanguageClient implements FusionClient {
  private starting = false;
  private started = false;
  private readonly restarts: number[] = [];

  constructor(server: Executable, options: LanguageClientOptions) {
    super(CLIENT_ID, CLIENT_NAME, server, {
      ...options,
      initializationFailedHandler: () => false,
      errorHandler: undefined,
      stdioOptions: SERVER_STDIO,
    });
    this.clientOptions.errorHandler = this.crashPolicy();
    // Replaces the library's handler, which only shows the message (installed on each start).
    this.onNotification(ShowMessageNotification.type, (params) => this.showMessage(params));
  }

  /**
   * The server's messages (a review that failed, models that did not answer) are shown as the
   * library shows them, and logged too: the Fusion output keeps what a notification tells once.
   */
  private showMessage({ type, message }: ShowMessageParams): void {
    switch (type) {
      case MessageType.Error:
        this.outputChannel.error(message);
        void vscode.window.showErrorMessage(message);
        break;
      case MessageType.Warning:
        this.outputChannel.warn(message);
        void vscode.window.showWarningMessage(message);
        break;
      default:
        this.outputChannel.info(message);
        void vscode.window.showInformationMessage(message);
    }
  }

  override async start(): Promise<void> {
    this.starting = true;
    try {
      await super.start();
      this.started = true;
    } finally {
      this.starting = false;
    }
  }

  override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
    super.error(message, data, this.starting ? false : showNotification);
  }

  onStateChange(listener: (state: ClientState) => void): vscode.Disposable {
    return this.onDidChangeState(({ newState }) => {
      switch (newState) {
        case State.Running:
          listener('running');
          break;
        case State.Starting:
          listener('starting');
          break;
        case State.StartFailed: // e.g. the automatic restart after a crash could not start the server
          listener('failed');
          break;
        default:
          listener('stopped');
      }
    });
  }

  /** A crash while starting is a start failure (reported once); later crashes restart the server. */
  private crashPolicy(): ErrorHandler {
    return {
      error: (_error, _message, count): ErrorHandlerResult => ({
        action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
      }),
      closed: (): CloseHandlerResult => {
        if (!this.started) {
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const now = Date.now();
        this.restarts.push(now);
        while (this.restarts.length > 0 && now - (this.restarts[0] ?? now) > RESTART_WINDOW_MS) {
          this.restarts.shift();
        }
        if (this.restarts.length > MAX_RESTARTS) {
          return {
            action: CloseAction.DoNotRestart,
            message: `fusion-ls crashed ${this.restarts.length} times in 3 minutes and will not be restarted; see the Fusion output. Run "Fusion: Restart Server" to try again.`,
          };
        }
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }
}

export const createLanguageClient: ClientFactory = (server, options) => new FusionLanguageClient(server, options);
