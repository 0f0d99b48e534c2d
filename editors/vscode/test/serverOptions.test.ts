import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  initializationOptions,
  installMessage,
  isMissingProgram,
  readSettings,
  resolveCommand,
  serverOptions,
  systemLookup,
  type CommandLookup,
  type SettingsSource,
} from '../src/serverOptions';

function source(values: Record<string, unknown>): SettingsSource {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

function lookup(files: string[], overrides: Partial<CommandLookup> = {}): CommandLookup {
  return {
    env: { PATH: '/usr/bin:/opt/fusion/bin' },
    platform: 'linux',
    home: '/home/me',
    folder: '/work/project',
    isExecutable: (file) => files.includes(file),
    ...overrides,
  };
}

describe('readSettings', () => {
  it('uses fusion-ls on PATH, no args and no overrides when nothing is set', () => {
    assert.deepStrictEqual(readSettings(source({})), {
      command: 'fusion-ls',
      args: [],
      mode: undefined,
      pool: [],
      judge: undefined,
      minAgreement: undefined,
      allowOutsideWorkspace: false,
    });
  });

  it('reads command, args, mode, pool and judge', () => {
    const settings = readSettings(
      source({
        'server.command': ' /opt/fusion/bin/fusion-ls ',
        'server.args': ['--log-level', 'DEBUG'],
        mode: 'debate',
        pool: ['anthropic/claude-sonnet-4.5', { model: 'qwen2.5-coder:14b', provider: 'local' }],
        judge: 'openai/gpt-5-mini',
        minAgreement: ' 2 ',
        allowOutsideWorkspace: true,
      }),
    );
    assert.deepStrictEqual(settings, {
      command: '/opt/fusion/bin/fusion-ls',
      args: ['--log-level', 'DEBUG'],
      mode: 'debate',
      pool: ['anthropic/claude-sonnet-4.5', { model: 'qwen2.5-coder:14b', provider: 'local' }],
      judge: 'openai/gpt-5-mini',
      minAgreement: 2,
      allowOutsideWorkspace: true,
    });
  });

  it('reads the agreement dial as "majority" or a whole number from 1 up', () => {
    const dial = (value: unknown) => readSettings(source({ minAgreement: value })).minAgreement;
    assert.strictEqual(dial('majority'), 'majority');
    assert.strictEqual(dial(3), 3);
    for (const bad of ['', '0', '-1', '1.5', 'most', 0, null]) {
      assert.strictEqual(dial(bad), undefined, String(bad));
    }
  });

  it('drops values the server would reject instead of sending them', () => {
    const settings = readSettings(
      source({
        'server.command': '   ',
        'server.args': ['--ok', 3, null],
        mode: 'default',
        pool: ['', 'a/b', { provider: 'local' }, { model: 'm', provider: '' }, 7],
        judge: { model: ' ' },
      }),
    );
    assert.strictEqual(settings.command, 'fusion-ls');
    assert.deepStrictEqual(settings.args, ['--ok']);
    assert.strictEqual(settings.mode, undefined);
    assert.deepStrictEqual(settings.pool, ['a/b', { model: 'm' }]);
    assert.strictEqual(settings.judge, undefined);
  });
});

describe('initializationOptions', () => {
  it('carries mode, pool, judge and the trust state', () => {
    const settings = readSettings(
      source({
        mode: 'best-of',
        pool: ['x/y'],
        judge: { model: 'j', provider: 'local' },
        minAgreement: 'majority',
        allowOutsideWorkspace: true,
      }),
    );
    assert.deepStrictEqual(initializationOptions(settings, false), {
      trusted: false,
      mode: 'best-of',
      pool: ['x/y'],
      judge: { model: 'j', provider: 'local' },
      min_agreement: 'majority',
      allow_outside_workspace: true,
    });
  });

  it('sends only the trust state when nothing overrides .fusion.toml', () => {
    assert.deepStrictEqual(initializationOptions(readSettings(source({})), true), { trusted: true });
  });
});

describe('resolveCommand', () => {
  it('finds a bare name on PATH, in PATH order', () => {
    const found = lookup(['/opt/fusion/bin/fusion-ls', '/usr/bin/fusion-ls']);
    assert.strictEqual(resolveCommand('fusion-ls', found), '/usr/bin/fusion-ls');
    assert.strictEqual(resolveCommand('fusion-ls', lookup(['/opt/fusion/bin/fusion-ls'])), '/opt/fusion/bin/fusion-ls');
  });

  it('returns undefined when the name is nowhere on PATH', () => {
    assert.strictEqual(resolveCommand('fusion-ls', lookup(['/usr/local/bin/fusion-ls'])), undefined);
    assert.strictEqual(resolveCommand('fusion-ls', lookup(['/usr/bin/fusion-ls'], { env: {} })), undefined);
  });

  it('checks absolute paths as they are', () => {
    assert.strictEqual(resolveCommand('/x/bin/fusion-ls', lookup(['/x/bin/fusion-ls'])), '/x/bin/fusion-ls');
    assert.strictEqual(resolveCommand('/x/bin/fusion-ls', lookup([])), undefined);
  });

  it('expands ~, ${workspaceFolder} and paths relative to the workspace folder', () => {
    const files = ['/home/me/.local/bin/fusion-ls', '/work/project/.venv/bin/fusion-ls'];
    assert.strictEqual(resolveCommand('~/.local/bin/fusion-ls', lookup(files)), files[0]);
    assert.strictEqual(resolveCommand('${workspaceFolder}/.venv/bin/fusion-ls', lookup(files)), files[1]);
    assert.strictEqual(resolveCommand('.venv/bin/fusion-ls', lookup(files)), files[1]);
    assert.strictEqual(resolveCommand('.venv/bin/fusion-ls', lookup(files, { folder: undefined })), undefined);
  });

  it('tries PATHEXT on Windows', () => {
    const windows = lookup(['C:\\Python\\Scripts\\fusion-ls.EXE'], {
      platform: 'win32',
      env: { Path: 'C:\\Windows;C:\\Python\\Scripts', PATHEXT: '.COM;.EXE' },
    });
    assert.strictEqual(resolveCommand('fusion-ls', windows), 'C:\\Python\\Scripts\\fusion-ls.EXE');
  });

  it('checks the real file system: executable files only', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fusion-vscode-'));
    try {
      const program = path.join(dir, 'fusion-ls');
      fs.writeFileSync(program, '#!/bin/sh\n', { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'plain'), '', { mode: 0o644 });
      const system = { ...systemLookup(undefined), env: { PATH: dir } };
      assert.strictEqual(resolveCommand('fusion-ls', system), program);
      assert.strictEqual(resolveCommand(dir, system), undefined, 'a directory is not a program');
      if (process.platform !== 'win32') {
        assert.strictEqual(resolveCommand('plain', system), undefined, 'not executable');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serverOptions', () => {
  it('runs the program with the args over stdio, without adding --stdio', () => {
    const options = serverOptions('/usr/bin/fusion-ls', ['--log-level', 'DEBUG'], '/work/project');
    assert.deepStrictEqual(options, {
      command: '/usr/bin/fusion-ls',
      args: ['--log-level', 'DEBUG'],
      options: { cwd: '/work/project' },
    });
    assert.strictEqual('transport' in options, false);
    assert.deepStrictEqual(serverOptions('/usr/bin/fusion-ls', [], undefined), { command: '/usr/bin/fusion-ls', args: [] });
  });
});

describe('install message and spawn errors', () => {
  it('says how to install and which setting to change', () => {
    const text = installMessage('fusion-ls');
    assert.match(text, /pip install \/path\/to\/fusion-ls/);
    assert.doesNotMatch(text, /pip install fusion-ls/, 'fusion-ls is not on PyPI: that name would install something else, or nothing');
    assert.match(text, /make/);
    assert.match(text, /\.venv\/bin\/fusion-ls/);
    assert.match(text, /fusion\.server\.command/);
    assert.match(text, /not found on PATH/);
    assert.match(installMessage('/opt/x/fusion-ls'), /"\/opt\/x\/fusion-ls" was not found or is not executable/);
  });

  it('tells a missing program from a server that failed', () => {
    assert.ok(isMissingProgram('Launching server using command fusion-ls failed. Error: spawn fusion-ls ENOENT'));
    const error: NodeJS.ErrnoException = new Error('spawn /x EACCES');
    error.code = 'EACCES';
    assert.ok(isMissingProgram(error));
    assert.ok(!isMissingProgram(new Error('Server initialization failed: exited with code 1')));
    assert.ok(!isMissingProgram(undefined));
  });
});
