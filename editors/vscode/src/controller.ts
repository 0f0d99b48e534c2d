/**
 * The client's life cycle (start, restart, stop, one notification when the server is missing)
 * and the server commands sent on behalf of the active editor or the workspace.
 */
import * as vscode from 'vscode';
import type { ExecuteCommandParams, LanguageClientOptions, ProgressToken } from 'vscode-languageclient/node';
import type { ClientFactory, FusionClient } from './client';
import { DISMISS, OPEN_SETTINGS, SERVER_COMMANDS, type Action } from './ids';
import {
  COMMAND_SETTING,
  SECTION,
  initializationOptions,
  installMessage,
  isMissingProgram,
  readSettings,
  resolveCommand,
  serverOptions,
  systemLookup,
  type CommandLookup,
} from './serverOptions';
import { parseResult, type CommandResult } from './results';
import { scopeOf, summarize, type StatusEvent } from './statusBar';

export const EXECUTE_COMMAND = 'workspace/executeCommand';
export const CANCEL_PROGRESS = 'window/workDoneProgress/cancel';
const SCHEMES = ['file', 'untitled'];
/** Server command → the action it runs, for commands VS Code sends on its own (code actions). */
const ACTIONS = new Map(Object.entries(SERVER_COMMANDS).map(([action, command]) => [command, action as Action]));

export interface ControllerDeps {
  createClient: ClientFactory;
  status: { apply(event: StatusEvent): void };
  /** A log channel (`{ log: true }`): the client logs to it by level, and so does the controller. */
  output: vscode.LogOutputChannel;
  lookup?: (folder: string | undefined) => CommandLookup;
}

export class Controller implements vscode.Disposable {
  private client: FusionClient | undefined;
  private clientListener: vscode.Disposable | undefined;
  private missing: string | undefined; // the command setting that was not found, if any
  private notified: string | undefined; // the command the install notification was shown for
  private queue: Promise<void> = Promise.resolve();
  private restartQueued = false;
  private readonly inFlight = new Set<vscode.CancellationTokenSource>();
  /** The server's running work-done progresses, including reviews started from code actions. */
  private readonly progress = new Set<ProgressToken>();

  constructor(private readonly deps: ControllerDeps) {}

  start(): Promise<void> {
    return this.enqueue(() => this.startClient());
  }

  /** Stop and start again with fresh settings; several requests while one waits make one restart. */
  restart(): Promise<void> {
    if (this.restartQueued) {
      return this.queue;
    }
    this.restartQueued = true;
    return this.enqueue(async () => {
      this.restartQueued = false;
      await this.stopClient();
      await this.startClient();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.stopClient());
  }

  dispose(): void {
    void this.stop();
  }

  /** Settles when the queued starts and restarts have. */
  ready(): Promise<void> {
    return this.queue;
  }

  /**
   * Runs `fusion.*` for the active editor (or, for Review Changes, the workspace); resolves with
   * the server's answer (or undefined).
   */
  async run(action: Action): Promise<CommandResult | undefined> {
    const editor = action === 'reviewChanges' ? undefined : fileEditor();
    if (editor === null) {
      return undefined;
    }
    await this.queue;
    const client = this.client;
    if (client === undefined) {
      if (this.missing !== undefined) {
        this.notifyMissing(this.missing, true);
      } else {
        this.notifyFailed('fusion-ls is not running.');
      }
      return undefined;
    }
    const params: ExecuteCommandParams = {
      command: SERVER_COMMANDS[action],
      arguments: editor === undefined ? [] : editorArguments(action, editor, client),
    };
    const source = new vscode.CancellationTokenSource();
    this.inFlight.add(source);
    try {
      return await this.track(action, params.arguments ?? [], () =>
        client.sendRequest<unknown>(EXECUTE_COMMAND, params, source.token),
      );
    } finally {
      this.inFlight.delete(source);
      source.dispose();
    }
  }

  /**
   * One server command, whoever started it (the palette, or a light-bulb action through the
   * client's middleware): the status bar follows it and the Fusion output logs its outcome, so
   * both tell the same story for every start.
   */
  private async track(action: Action, args: unknown[], send: () => Promise<unknown>): Promise<CommandResult | undefined> {
    const command = SERVER_COMMANDS[action];
    const scope = scopeOf(args);
    if (scope !== undefined) {
      this.deps.status.apply({ type: 'touched', uri: scope.uri });
    }
    this.deps.status.apply({ type: 'sent', action });
    let answer: unknown;
    try {
      answer = await send();
    } catch (error) {
      // The client has logged the failed request (and shown it); the bar keeps the reason.
      this.deps.status.apply({ type: 'answered', action, result: undefined, error: describe(error) });
      return undefined;
    }
    const result = parseResult(answer);
    if (result === undefined && answer !== null && answer !== undefined) {
      // A server newer or older than this extension: say so rather than "no answer".
      const error = `fusion-ls answered ${command} with a result this extension does not understand`;
      this.deps.output.warn(`${error}: ${JSON.stringify(answer)}`);
      this.deps.status.apply({ type: 'answered', action, result, error });
      return undefined;
    }
    const summary = summarize(result);
    if (summary?.failed) {
      this.deps.output.error(`${command} failed: ${summary.tooltip}`);
    } else if (summary !== undefined) {
      this.deps.output.info(`${command}: ${summary.tooltip}`);
    }
    this.deps.status.apply({ type: 'answered', action, result, scope });
    return result;
  }

  /** A server command that VS Code runs for a light-bulb action; tracked like the palette's. */
  private executeCommand(command: string, args: unknown[], next: (command: string, args: unknown[]) => Promise<unknown>): Promise<unknown> {
    const action = ACTIONS.get(command);
    if (action === undefined) {
      if (command === DISMISS && typeof args[0] === 'string') {
        this.deps.status.apply({ type: 'touched', uri: args[0] });
      }
      return next(command, args);
    }
    return this.track(action, args, () => next(command, args));
  }

  /**
   * Cancels every review: our requests in flight, and every running progress (which also stops
   * reviews started from a code action). The server closes the model requests at once.
   * Returns how many were running.
   */
  cancelAll(): number {
    const count = Math.max(this.inFlight.size, this.progress.size);
    for (const source of this.inFlight) {
      source.cancel();
    }
    for (const token of this.progress) {
      void this.client?.sendNotification(CANCEL_PROGRESS, { token }).catch(() => undefined);
    }
    return count;
  }

  showOutput(): void {
    this.deps.output.show(true);
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      this.deps.output.error(describe(error));
    });
    return this.queue;
  }

  private async startClient(): Promise<void> {
    const settings = readSettings(vscode.workspace.getConfiguration(SECTION));
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const lookup = (this.deps.lookup ?? systemLookup)(folder);
    const program = resolveCommand(settings.command, lookup);
    if (program === undefined) {
      this.setMissing(settings.command);
      return;
    }
    this.missing = undefined;
    this.deps.status.apply({ type: 'server', state: 'starting' });
    const options: LanguageClientOptions = {
      documentSelector: SCHEMES.map((scheme) => ({ scheme })),
      outputChannel: this.deps.output,
      diagnosticCollectionName: 'fusion',
      initializationOptions: initializationOptions(settings, vscode.workspace.isTrusted),
      middleware: {
        handleWorkDoneProgress: (token, value, next) => {
          this.deps.status.apply({ type: 'progress', token, value });
          if (value.kind === 'end') {
            this.progress.delete(token);
            // The status item is the one display of progress. The library's own (a second
            // status-bar entry) hears only the end, which lets it forget the token.
            next(token, value);
          } else {
            this.progress.add(token);
          }
        },
        executeCommand: (command, args, next) => this.executeCommand(command, args, async (c, a) => next(c, a)),
      },
    };
    const client = this.deps.createClient(serverOptions(program, settings.args, folder), options);
    this.client = client;
    this.clientListener = client.onStateChange((state) => this.deps.status.apply({ type: 'server', state }));
    try {
      await client.start();
    } catch (error) {
      await this.stopClient();
      this.deps.output.error(`could not start ${program}: ${describe(error)}`);
      if (isMissingProgram(error)) {
        this.setMissing(settings.command);
      } else {
        this.deps.status.apply({ type: 'server', state: 'failed', detail: describe(error) });
        this.notifyFailed(`fusion-ls failed to start: ${describe(error)}`);
      }
      return;
    }
    this.notified = undefined;
    this.deps.status.apply({ type: 'server', state: 'running' });
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientListener?.dispose();
    this.clientListener = undefined;
    this.cancelAll();
    this.progress.clear();
    if (client !== undefined) {
      try {
        await client.dispose();
      } catch {
        // a client that never got running cannot be stopped; nothing is left to clean up
      }
    }
  }

  private setMissing(command: string): void {
    this.missing = command;
    this.deps.status.apply({ type: 'server', state: 'missing' });
    this.notifyMissing(command, false);
  }

  /** The install notification: once per missing command, again only when the user asks for a review. */
  private notifyMissing(command: string, explicit: boolean): void {
    if (!explicit && this.notified === command) {
      return;
    }
    this.notified = command;
    const message = installMessage(command);
    this.deps.output.error(message);
    void vscode.window.showErrorMessage(message, 'Open Setting').then((choice) => {
      if (choice === 'Open Setting') {
        void vscode.commands.executeCommand(OPEN_SETTINGS, COMMAND_SETTING);
      }
    });
  }

  private notifyFailed(message: string): void {
    void vscode.window.showErrorMessage(message, 'Show Output').then((choice) => {
      if (choice === 'Show Output') {
        this.showOutput();
      }
    });
  }
}

/** The active editor when it holds a file or an untitled document; null (after saying why) if not. */
function fileEditor(): vscode.TextEditor | null {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage('Fusion: open a file to review first.');
    return null;
  }
  const scheme = editor.document.uri.scheme;
  if (!SCHEMES.includes(scheme)) {
    void vscode.window.showWarningMessage(`Fusion reviews files and untitled editors, not "${scheme}:" documents.`);
    return null;
  }
  return editor;
}

/** `[uri, range]` for the selection commands, `[uri]` for the others. */
function editorArguments(action: Action, editor: vscode.TextEditor, client: FusionClient): unknown[] {
  const c2p = client.code2ProtocolConverter;
  const uri = c2p.asUri(editor.document.uri);
  return action === 'review' || action === 'explain' ? [uri, c2p.asRange(editor.selection)] : [uri];
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return typeof error === 'string' ? error : JSON.stringify(error);
}
