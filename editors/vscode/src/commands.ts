/** The palette / context-menu commands, each a one-liner onto the controller. */
import * as vscode from 'vscode';
import { COMMANDS, type Action } from './ids';

export interface CommandHost {
  run(action: Action): Promise<unknown>;
  cancelAll(): number;
  restart(): Promise<void>;
  showOutput(): void;
}

export function registerCommands(host: CommandHost): vscode.Disposable[] {
  const table: Array<[string, () => unknown]> = [
    [COMMANDS.reviewSelection, () => host.run('review')],
    [COMMANDS.explainSelection, () => host.run('explain')],
    [COMMANDS.reviewFile, () => host.run('reviewFile')],
    [COMMANDS.reviewChanges, () => host.run('reviewChanges')],
    [COMMANDS.clearFindings, () => host.run('clear')],
    [COMMANDS.cancel, () => cancel(host)],
    [COMMANDS.restartServer, () => host.restart()],
    [COMMANDS.showOutput, () => host.showOutput()],
  ];
  return table.map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}

function cancel(host: CommandHost): void {
  if (host.cancelAll() === 0) {
    void vscode.window.showInformationMessage('Fusion: no review is running.');
  }
}
