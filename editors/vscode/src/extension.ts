/** Activation: wires the status bar, the controller, the commands and the restart triggers. */
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE, createLanguageClient } from './client';
import { registerCommands } from './commands';
import { Controller } from './controller';
import { RESTART_SETTINGS } from './serverOptions';
import { StatusBar, type LineSpan } from './statusBar';

let controller: Controller | undefined;

/** Returns the controller (handy for tests and for other extensions; not a stable API). */
export function activate(context: vscode.ExtensionContext): Controller {
  const output = vscode.window.createOutputChannel('Fusion', { log: true });
  const status = new StatusBar(vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100));
  const current = new Controller({ createClient: createLanguageClient, status, output });
  controller = current;
  context.subscriptions.push(
    output,
    status,
    current,
    ...registerCommands(current),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
        void current.restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void current.restart()),
    vscode.workspace.onDidChangeTextDocument(({ document }) => status.apply({ type: 'touched', uri: document.uri.toString() })),
    vscode.workspace.onDidCloseTextDocument((document) => status.apply({ type: 'touched', uri: document.uri.toString() })),
    vscode.languages.onDidChangeDiagnostics((event) => {
      for (const uri of event.uris) {
        status.apply({ type: 'diagnostics', uri: uri.toString(), findings: fusionFindings(uri) });
      }
    }),
  );
  void current.start();
  return current;
}

/** The lines of the Fusion findings a document shows now (`.fusion.toml` problems are Fusion's too, but never reviewed). */
function fusionFindings(uri: vscode.Uri): LineSpan[] {
  return vscode.languages
    .getDiagnostics(uri)
    .filter((diagnostic) => diagnostic.source === DIAGNOSTIC_SOURCE)
    .map(({ range }) => ({ start: range.start.line, end: range.end.line }));
}

export async function deactivate(): Promise<void> {
  const current = controller;
  controller = undefined;
  await current?.stop();
}
