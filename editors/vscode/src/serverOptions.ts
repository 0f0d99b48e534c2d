/**
 * Settings → how to start the server. Pure: no `vscode` import, the file system behind an
 * interface, so every rule here is tested without an editor.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Executable } from 'vscode-languageclient/node';
import type { Mode } from './results';

export const SECTION = 'fusion';
export const DEFAULT_COMMAND = 'fusion-ls';
export const COMMAND_SETTING = 'fusion.server.command';
/**
 * The settings the server is started with: a change restarts it. `fusion.trace.server` is not
 * one: the language client applies it to the running server, and a restart would take every
 * finding off the editor.
 */
export const RESTART_SETTINGS: readonly string[] = [
  'fusion.server',
  'fusion.mode',
  'fusion.pool',
  'fusion.judge',
  'fusion.minAgreement',
  'fusion.allowOutsideWorkspace',
];

export type ModelRef = string | { model: string; provider?: string };

/** `review.min_agreement`: a number of models, or "majority". */
export type MinAgreement = number | 'majority';

/** The `fusion.*` settings, validated. Unset overrides are `undefined` / empty. */
export interface FusionSettings {
  command: string;
  args: string[];
  mode: Mode | undefined;
  pool: ModelRef[];
  judge: ModelRef | undefined;
  minAgreement: MinAgreement | undefined;
  allowOutsideWorkspace: boolean;
}

/** Sent as `initializationOptions`; the server reads `mode`, `pool`, `judge`, `min_agreement`. */
export interface InitializationOptions {
  trusted: boolean;
  mode?: Mode;
  pool?: ModelRef[];
  judge?: ModelRef;
  min_agreement?: MinAgreement;
  allow_outside_workspace?: true;
}

/** The part of `vscode.WorkspaceConfiguration` read here. */
export interface SettingsSource {
  get<T>(key: string): T | undefined;
}

const MODES: readonly string[] = ['merge', 'best-of', 'debate'];

export function readSettings(config: SettingsSource): FusionSettings {
  const command = config.get<unknown>('server.command');
  const args = config.get<unknown>('server.args');
  const mode = config.get<unknown>('mode');
  const pool = config.get<unknown>('pool');
  return {
    command: typeof command === 'string' && command.trim() !== '' ? command.trim() : DEFAULT_COMMAND,
    args: Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [],
    mode: typeof mode === 'string' && MODES.includes(mode) ? (mode as Mode) : undefined,
    pool: Array.isArray(pool) ? pool.map(modelRef).filter((m): m is ModelRef => m !== undefined) : [],
    judge: modelRef(config.get<unknown>('judge')),
    minAgreement: minAgreement(config.get<unknown>('minAgreement')),
    allowOutsideWorkspace: config.get<unknown>('allowOutsideWorkspace') === true,
  };
}

/** "majority", or a whole number from 1 up (as a number or as text); anything else is unset. */
function minAgreement(value: unknown): MinAgreement | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (text === 'majority') {
    return 'majority';
  }
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
}

function modelRef(value: unknown): ModelRef | undefined {
  if (typeof value === 'string') {
    return value.trim() !== '' ? value.trim() : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const { model, provider } = value as { model?: unknown; provider?: unknown };
    if (typeof model === 'string' && model.trim() !== '') {
      return typeof provider === 'string' && provider.trim() !== ''
        ? { model: model.trim(), provider: provider.trim() }
        : { model: model.trim() };
    }
  }
  return undefined;
}

export function initializationOptions(settings: FusionSettings, trusted: boolean): InitializationOptions {
  const options: InitializationOptions = { trusted };
  if (settings.mode !== undefined) {
    options.mode = settings.mode;
  }
  if (settings.pool.length > 0) {
    options.pool = settings.pool;
  }
  if (settings.judge !== undefined) {
    options.judge = settings.judge;
  }
  if (settings.minAgreement !== undefined) {
    options.min_agreement = settings.minAgreement;
  }
  if (settings.allowOutsideWorkspace) {
    options.allow_outside_workspace = true;
  }
  return options;
}

/** Where and how to look for the program. */
export interface CommandLookup {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  /** The first workspace folder, for relative paths and `${workspaceFolder}`. */
  folder: string | undefined;
  isExecutable(file: string): boolean;
}

export function systemLookup(folder: string | undefined): CommandLookup {
  return {
    env: process.env,
    platform: process.platform,
    home: os.homedir(),
    folder,
    isExecutable(file: string): boolean {
      try {
        if (!fs.statSync(file).isFile()) {
          return false;
        }
        fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * The absolute path of the program `command` names, or undefined when there is none:
 * a bare name is looked up on PATH (with PATHEXT on Windows); `~/…`, `${workspaceFolder}/…`
 * and paths relative to the workspace folder are expanded first.
 */
export function resolveCommand(command: string, lookup: CommandLookup): string | undefined {
  const p = lookup.platform === 'win32' ? path.win32 : path.posix;
  let expanded = command.trim();
  if (lookup.folder !== undefined) {
    expanded = expanded.split('${workspaceFolder}').join(lookup.folder);
  }
  if (expanded === '~' || expanded.startsWith('~/') || expanded.startsWith('~\\')) {
    expanded = p.join(lookup.home, expanded.slice(1));
  }
  if (expanded === '' || expanded.includes('${')) {
    return undefined;
  }
  const extensions =
    lookup.platform === 'win32'
      ? ['', ...(lookup.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '')]
      : [''];
  const candidates = (base: string): string[] => extensions.map((ext) => base + ext);
  const hasSeparator = expanded.includes('/') || (lookup.platform === 'win32' && expanded.includes('\\'));
  if (p.isAbsolute(expanded) || hasSeparator) {
    if (!p.isAbsolute(expanded)) {
      if (lookup.folder === undefined) {
        return undefined;
      }
      expanded = p.join(lookup.folder, expanded);
    }
    return candidates(expanded).find((file) => lookup.isExecutable(file));
  }
  const searchPath = lookup.env.PATH ?? lookup.env.Path ?? '';
  for (const dir of searchPath.split(p.delimiter)) {
    if (dir === '') {
      continue;
    }
    const found = candidates(p.join(dir, expanded)).find((file) => lookup.isExecutable(file));
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/**
 * Stdio without a `transport`: vscode-languageclient would append `--stdio` for
 * `TransportKind.stdio`, and fusion-ls serves stdio when run without arguments.
 */
export function serverOptions(program: string, args: string[], folder: string | undefined): Executable {
  const executable: Executable = { command: program, args: [...args] };
  if (folder !== undefined) {
    executable.options = { cwd: folder };
  }
  return executable;
}

export function installMessage(command: string): string {
  const where = command === DEFAULT_COMMAND ? `"${command}" was not found on PATH` : `"${command}" was not found or is not executable`;
  return (
    `Fusion: the fusion-ls language server ${where}. ` +
    'Install it from a fusion-ls checkout with `pip install /path/to/fusion-ls` (it is not on PyPI), or run `make` in the checkout, which creates `.venv/bin/fusion-ls`; ' +
    `then set "${COMMAND_SETTING}" to the program's path.`
  );
}

/** A start failure that means "the program is not there / not runnable", not "it crashed". */
export function isMissingProgram(error: unknown): boolean {
  const text =
    typeof error === 'string'
      ? error
      : error instanceof Error
        ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`
        : '';
  return /\b(ENOENT|EACCES|ENOTDIR|EPERM)\b/.test(text);
}
