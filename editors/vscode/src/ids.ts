/** Command ids: the extension's own (package.json) and the server's (workspace/executeCommand). */

export const COMMANDS = {
  reviewSelection: 'fusion-ls.reviewSelection',
  explainSelection: 'fusion-ls.explainSelection',
  reviewFile: 'fusion-ls.reviewFile',
  reviewChanges: 'fusion-ls.reviewChanges',
  clearFindings: 'fusion-ls.clearFindings',
  cancel: 'fusion-ls.cancel',
  restartServer: 'fusion-ls.restartServer',
  showOutput: 'fusion-ls.showOutput',
} as const;

/** The actions that call the server, and the server command each one runs. */
export type Action = 'review' | 'explain' | 'reviewFile' | 'reviewChanges' | 'clear';

export const SERVER_COMMANDS: Readonly<Record<Action, string>> = {
  review: 'fusion.review',
  explain: 'fusion.explain',
  reviewFile: 'fusion.reviewFile',
  reviewChanges: 'fusion.reviewChanges',
  clear: 'fusion.clear',
};

/** The server command behind the light bulb's "Fusion: dismiss …" actions. */
export const DISMISS = 'fusion.dismiss';

export const OPEN_SETTINGS = 'workbench.action.openSettings';
