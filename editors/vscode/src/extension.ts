/** Activation: wires the status bar, the controller, the commands and the restart triggers. */
import * as vscode from 'vscode';
import { createLanguageClient } from './client';
import { registerCommands } from './commands';
import { Controller } from './controller';
import { SECTION } from './serverOptions';
import { StatusBar } from './statusBar';

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
      if (event.affectsConfiguration(SECTION)) {
        void current.restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void current.restart()),
  );
  void current.start();
  return current;
}

export async function deactivate(): Promise<void> {
  const current = controller;
  controller = undefined;
  await current?.stop();
}
