/**
 * The pieces of one workbench run, each started and stopped here: the fake model API
 * (fake_models.py), a throw-away workspace (a git repository) and home, code-server with the
 * freshly built .vsix, and Debian's Chromium driven by playwright-core. `run.mjs` holds the checks.
 */
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(new URL(import.meta.url).pathname);
export const EXTENSION = path.resolve(HERE, '..');
export const REPO = path.resolve(EXTENSION, '..', '..');
const SAMPLE = path.join(REPO, 'tests', 'fixtures', 'sample.py');
const CHROMIUM = '/usr/bin/chromium'; // Debian's, which install.sh installs

/** Chromium on a closed network: no background traffic, no sandbox (CI runs as root). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** User settings of the workbench: the server from this repository, nothing that phones home. */
export function userSettings(serverCommand) {
  return {
    'fusion.server.command': serverCommand,
    // As README's troubleshooting says: the server's own log (its stderr) at info, where the
    // server names itself when it starts.
    'fusion.server.args': ['--log-level', 'INFO'],
    'security.workspace.trust.enabled': true,
    'security.workspace.trust.startupPrompt': 'never',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.enableExperiments': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
  };
}

/** The fake model API; resolves once it listens. `stats()` asks it what it was sent. */
export async function startModels(python) {
  const child = spawn(python, [path.join(HERE, 'fake_models.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) {
    throw new Error('fake_models.py exited before it listened');
  }
  const { base_url: baseUrl } = JSON.parse(first.value);
  return {
    baseUrl,
    async stats() {
      child.stdin.write('stats\n');
      return JSON.parse((await lines.next()).value);
    },
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}

/**
 * store.py as committed, and as changed since (lines 5 and 9: the sample's two bugs); the lines
 * after the sample's are far from both hunks, never sent with them.
 */
const STORE_TAIL = Array.from({ length: 12 }, (_, i) => `\n\ndef far_away_${i + 1}():\n    return ${i + 1}\n`).join('');
export const STORE = {
  committed: sampleWith({
    5: '    return total / len(values) if values else 0.0',
    9: '    query = "SELECT * FROM users WHERE id = " + str(int(user_id))',
  }),
  changed: sampleWith({}),
  changedLines: [5, 9],
};
/** A line far below both hunks (more than three times the context a hunk is sent with). */
STORE.farLine = STORE.changed.split('\n').indexOf('def far_away_6():') + 1;

function sampleWith(replaced) {
  const lines = fs.readFileSync(SAMPLE, 'utf8').replace(/\n$/, '').split('\n');
  return lines.map((line, i) => replaced[i + 1] ?? line).join('\n') + '\n' + STORE_TAIL;
}

function git(dir, ...args) {
  execFileSync('git', ['-C', dir, '-c', 'user.name=workbench', '-c', 'user.email=workbench@example.com', ...args], {
    stdio: 'pipe',
  });
}

/**
 * The project, a git repository with one commit: the editor tests' sample, a file the models are
 * slow on, .fusion.toml, and store.py, changed on disk since the commit.
 */
export function writeWorkspace(dir, baseUrl) {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(SAMPLE, path.join(dir, 'sample.py'));
  fs.writeFileSync(path.join(dir, 'store.py'), STORE.committed);
  fs.writeFileSync(path.join(dir, 'slow.py'), 'def wait(seconds):\n    time.sleep(seconds)\n');
  fs.writeFileSync(path.join(dir, '.env.local'), 'DEBUG=1\n'); // excluded: never sent
  const config = path.join(dir, '.fusion.toml');
  fs.writeFileSync(
    config,
    [
      '[fusion]',
      'pool = [{ model = "alpha", provider = "fake" }, { model = "beta", provider = "fake" }, { model = "gamma", provider = "fake" }]',
      'judge = { model = "judge", provider = "fake" }',
      '',
      '[providers.fake]',
      `base_url = "${baseUrl}"`,
      'max_retries = 0',
      '',
    ].join('\n'),
  );
  git(dir, '-c', 'init.defaultBranch=main', 'init', '-q');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '--no-gpg-sign', '-m', 'the project as committed');
  fs.writeFileSync(path.join(dir, 'store.py'), STORE.changed);
  return config;
}

/** code-server on 127.0.0.1 (a free port), with its own user data, extensions and home. */
export async function startCodeServer({ codeServer, home, env, vsix, settings }) {
  const dirs = {
    data: path.join(home, 'code-server', 'data'),
    extensions: path.join(home, 'code-server', 'extensions'),
  };
  fs.mkdirSync(path.join(dirs.data, 'User'), { recursive: true });
  fs.mkdirSync(dirs.extensions, { recursive: true });
  fs.writeFileSync(path.join(dirs.data, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const common = ['--user-data-dir', dirs.data, '--extensions-dir', dirs.extensions];
  execFileSync(codeServer, [...common, '--install-extension', vsix], { env, stdio: 'pipe' });
  const child = spawn(
    codeServer,
    [
      ...common,
      '--auth', 'none',
      '--bind-addr', '127.0.0.1:0',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }, // its own process group, stopped whole
  );
  const log = [];
  const url = await new Promise((resolve, reject) => {
    const onLine = (line) => {
      log.push(line);
      const found = /HTTP server listening on (http:\/\/\S+)/.exec(line);
      if (found) {
        resolve(found[1].replace(/\/$/, ''));
      }
    };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`code-server exited (${code}):\n${log.join('\n')}`)));
  });
  return {
    url,
    dirs,
    log,
    async stop() {
      const exited = once(child, 'exit').catch(() => undefined);
      try {
        process.kill(-child.pid, 'SIGTERM'); // code-server and the extension host, file watcher, server
      } catch {
        return; // it has exited already
      }
      await exited;
    },
  };
}

/** Chromium with a fresh profile (playwright passes it as --user-data-dir). */
export async function startBrowser(profile) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}
