/**
 * The Fusion extension in a real VS Code workbench: code-server in headless Chromium, the .vsix
 * installed, fusion-ls from this repository, models from fake_models.py. Each check does what a
 * user does (palette, selection, hover, light bulb, status bar) and reads what the workbench
 * shows. The checks run in order, each building on the state the last one left; a failure
 * leaves a screenshot in workbench/artifacts/ and the run goes on (later failures may follow
 * from the first).
 *
 * Environment: CODE_SERVER (the code-server program; install.sh prints it), FUSION_PYTHON and
 * FUSION_LS (the project's venv: python and fusion-ls), VSIX (default: the one `npm run ci` built).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Workbench } from './ui.mjs';
import * as wb from './workbench.mjs';

const ARTIFACTS = path.join(wb.HERE, 'artifacts');
const VSIX = process.env.VSIX ?? path.join(wb.EXTENSION, 'fusion-ls-0.1.0.vsix');
const PYTHON = process.env.FUSION_PYTHON ?? path.join(wb.REPO, '.venv', 'bin', 'python');
const FUSION_LS = process.env.FUSION_LS ?? path.join(wb.REPO, '.venv', 'bin', 'fusion-ls');
const CODE_SERVER = process.env.CODE_SERVER;
const MANIFEST = JSON.parse(fs.readFileSync(path.join(wb.EXTENSION, 'package.json'), 'utf8'));

const DIV = 'Division by zero when values is empty (2/3 models)';
const SQLI = 'SQL injection via user_id (2/3 models)';
const FIXED = 'return total / len(values) if values else 0.0';
/** What a review's tooltip says beyond the count, wherever the review was started. */
const REVIEW_DETAILS = /merge · 3\/3 models answered · [\d.]+ s · \d+ tokens/;

function assert(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

function contains(list, wanted, what) {
  assert(list.some((item) => item.includes(wanted)), `${what} should include "${wanted}"; it shows:\n  ${list.join('\n  ')}`);
}

/** One run's surroundings: directories, models, code-server, the page. */
async function setUp(root) {
  const home = path.join(root, 'home');
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.endsWith('_API_KEY'))),
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
  };
  fs.mkdirSync(home, { recursive: true });
  const models = await wb.startModels(PYTHON);
  const project = path.join(root, 'project');
  const config = wb.writeWorkspace(project, models.baseUrl);
  // The user trusts the project file (fusion-ls's own trust); VS Code's trust comes later.
  execFileSync(FUSION_LS, ['trust', config], { env, stdio: 'pipe' });
  const settings = wb.userSettings(FUSION_LS);
  const server = await wb.startCodeServer({ codeServer: CODE_SERVER, home, env, vsix: VSIX, settings });
  const browser = await wb.startBrowser(path.join(root, 'chromium'));
  const ui = new Workbench(browser.page);
  await browser.page.goto(`${server.url}/?folder=${encodeURIComponent(project)}`);
  await browser.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return {
    ui,
    models,
    server,
    browser,
    async stop() {
      await browser.context.close().catch(() => undefined);
      await server.stop();
      models.stop();
    },
  };
}

async function modelCalls(run) {
  const { models } = await run.models.stats();
  return Object.values(models).reduce((sum, count) => sum + count, 0);
}

const CHECKS = [
  [
    'Restricted Mode: the project file may not choose providers, and nothing is sent',
    async ({ ui, ...run }) => {
      await ui.until('the Fusion status item', async () => (await ui.statusText()).includes('Fusion'), 60_000);
      contains(await ui.statusItems(), 'Restricted Mode', 'the status bar');
      await ui.command('View: Focus Problems (Errors, Warnings, Infos)');
      await ui.until('the Restricted Mode warning on .fusion.toml', async () =>
        (await ui.problems()).some((p) => p.includes('the editor has not trusted this workspace')),
      );
      await ui.openFile('sample.py');
      await ui.selectLines(1, 10);
      await ui.command('Fusion: Review Selection');
      await ui.until('a notification that no provider can be used', async () =>
        (await ui.notifications()).some((n) => n.includes('no model provider can be used')),
      );
      assert((await modelCalls(run)) === 0, 'no model may be asked in Restricted Mode');
    },
  ],
  [
    'granting trust restarts the server, which now uses the project providers',
    async ({ ui }) => {
      await ui.clearNotifications();
      await ui.command('Workspaces: Manage Workspace Trust');
      await ui.page.getByRole('button', { name: 'Trust', exact: true }).first().click();
      await ui.until('Restricted Mode to end', async () => !(await ui.statusItems()).some((t) => t.includes('Restricted Mode')));
      await ui.until('the status item back to idle', async () => (await ui.statusText()) === '$(sparkle) Fusion');
      await ui.command('View: Close Editor'); // the Workspace Trust editor
    },
  ],
  [
    'every command the extension contributes is in the palette',
    async ({ ui }) => {
      await ui.openFile('sample.py');
      const entries = await ui.paletteEntries('Fusion:');
      for (const { category, title } of MANIFEST.contributes.commands) {
        contains(entries, `${category}: ${title}`, 'the palette');
      }
      await ui.closeWidgets();
    },
  ],
  [
    'Review Selection: findings with their agreement in the Problems panel, counted in the status bar',
    async ({ ui }) => {
      await ui.openFile('sample.py');
      await ui.selectLines(1, 10);
      await ui.command('Fusion: Review Selection');
      await ui.command('View: Focus Problems (Errors, Warnings, Infos)');
      await ui.until('both findings in the Problems panel', async () => {
        const problems = await ui.problems();
        return problems.some((p) => p.includes(DIV)) && problems.some((p) => p.includes(SQLI));
      });
      await ui.until('the status item counting 2 findings', async () => (await ui.statusText()) === '$(sparkle) Fusion: 2 findings');
      const tooltip = await ui.statusTooltip();
      assert(REVIEW_DETAILS.test(tooltip), `the status tooltip should give mode, models, time and tokens; it says: ${tooltip}`);
    },
  ],
  [
    'hover on a finding: the rationale, the models that raised it, the fix as a diff',
    async ({ ui }) => {
      await ui.openFile('sample.py');
      await ui.goToLine(5);
      const text = (await ui.hoverText(/len\(values\) is 0 for an empty list/)).replace(/\s+/g, ' ');
      for (const wanted of [
        /Raised by 2\/3 models: alpha@fake, beta@fake/,
        /Fix --- current \+\+\+ fixed @@ -5 \+5 @@ - return total \/ len\(values\) \+ return total \/ len\(values\) if values else 0\.0/,
      ]) {
        assert(wanted.test(text), `the hover should match ${wanted}; it says:\n${text}`);
      }
    },
  ],
  [
    'the quick fix changes the buffer, and the status bar counts what is left',
    async ({ ui }) => {
      await ui.openFile('sample.py');
      await ui.goToLine(5);
      await ui.page.keyboard.press('End'); // inside the finding's range
      await ui.runCodeAction(/Fusion: apply fix — Division by zero/);
      await ui.until('line 5 fixed in the editor', async () => (await ui.editorText()).split('\n')[4]?.trim() === FIXED);
      await ui.until('the division finding gone from the Problems panel', async () => {
        const problems = await ui.problems();
        return !problems.some((p) => p.includes(DIV)) && problems.some((p) => p.includes(SQLI));
      });
      await ui.until('the status item counting 1 finding', async () => (await ui.statusText()) === '$(sparkle) Fusion: 1 finding');
    },
  ],
  [
    'Explain Selection: the explanation is the hover of the explained lines',
    async ({ ui }) => {
      await ui.openFile('sample.py');
      await ui.selectLines(1, 5);
      await ui.command('Fusion: Explain Selection');
      await ui.until('the status item saying explained', async () => (await ui.statusText()) === '$(sparkle) Fusion: explained');
      await ui.goToLine(2);
      await ui.hoverText(/sums the values and divides by their count/);
    },
  ],
  [
    'a review from the light bulb leaves the same tooltip as one from the palette',
    async ({ ui }) => {
      await ui.openFile('sample.py');
      await ui.selectLines(8, 10);
      await ui.runCodeAction(/^Fusion: review selection/);
      await ui.until('the status item counting the light-bulb review', async () =>
        /^\$\(sparkle\) Fusion: 1 finding$/.test(await ui.statusText()),
      );
      const tooltip = await ui.statusTooltip();
      assert(REVIEW_DETAILS.test(tooltip), `the status tooltip should give mode, models, time and tokens; it says: ${tooltip}`);
    },
  ],
  [
    'progress: one status item while models work, a click on it cancels and closes their connections',
    async ({ ui, models }) => {
      await ui.openFile('slow.py');
      await ui.selectLines(1, 2);
      const before = (await models.stats()).disconnects;
      await ui.command('Fusion: Review Selection');
      await ui.until('the status item showing the models at work', async () =>
        (await ui.statusText()).startsWith('$(sync~spin) Fusion: round 1: 0/3 answered'),
      );
      // VS Code shows a window progress after a delay: watch long enough to see a second one.
      await ui.never('progress shown twice in the status bar', 3000, async () => {
        const showing = (await ui.statusItems()).filter((text) => text.includes('0/3 answered'));
        return showing.length > 1 ? JSON.stringify(showing) : undefined;
      });
      await ui.statusItem().click();
      await ui.until('the status item saying cancelled', async () => (await ui.statusText()) === '$(sparkle) Fusion: cancelled');
      await ui.until('the three model connections closed', async () => (await models.stats()).disconnects >= before + 3);
    },
  ],
  [
    'a failed review, a broken server path (one clear notification), then the fixed path: the status resets',
    async ({ ui }) => {
      await ui.clearNotifications();
      await ui.openFile('.env.local');
      await ui.command('Fusion: Review File');
      await ui.until('the status item saying the review failed', async () => (await ui.statusText()) === '$(warning) Fusion: failed');
      await ui.closeWidgets();
      await ui.setRemoteSetting('fusion.server.command', '/nonexistent/fusion-ls');
      const shown = await ui.until('a notification saying how to install fusion-ls', async () => {
        const install = (await ui.notifications()).filter((n) => n.includes('pip install fusion-ls'));
        return install.length > 0 ? install : undefined;
      });
      assert(shown.length === 1, `one install notification, not ${shown.length}: ${JSON.stringify(shown)}`);
      await ui.until('the status item warning', async () => (await ui.statusText()) === '$(warning) Fusion');
      await ui.closeWidgets();
      await ui.setRemoteSetting('fusion.server.command', FUSION_LS);
      await ui.until('the status item idle again', async () => (await ui.statusText()) === '$(sparkle) Fusion');
    },
  ],
  [
    'Show Server Output: the Fusion output holds the failures, not only the notifications',
    async ({ ui }) => {
      await ui.command('Fusion: Show Server Output');
      for (const logged of [
        'no model provider can be used', // the Restricted Mode warning, from the server
        'fusion.reviewFile failed: .env.local is never sent to a model', // the failed review
        '"/nonexistent/fusion-ls" was not found', // the broken path
        'WARNING', // the server's own log (its stderr)
      ]) {
        await ui.until(`"${logged}" in the Fusion output`, async () => (await ui.outputLines(logged)).some((l) => l.includes(logged)));
      }
    },
  ],
];

async function main() {
  assert(CODE_SERVER && fs.existsSync(CODE_SERVER), 'CODE_SERVER must name the code-server program (run workbench/install.sh)');
  for (const [what, file] of [['fusion-ls', FUSION_LS], ['python', PYTHON], ['the .vsix', VSIX]]) {
    assert(fs.existsSync(file), `${what} not found at ${file}; run \`make\` and \`make vscode\` first`);
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fusion-workbench-'));
  const started = Date.now();
  const run = await setUp(root);
  let failed = 0;
  try {
    for (const [index, [what, check]] of CHECKS.entries()) {
      const t0 = Date.now();
      try {
        await check(run);
        console.log(`ok   ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failed += 1;
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const shot = path.join(ARTIFACTS, `${index + 1}-failed.png`);
        await run.ui.page.screenshot({ path: shot }).catch(() => undefined);
        console.log(`FAIL ${what}\n     ${error.stack ?? error}\n     screenshot: ${path.relative(process.cwd(), shot)}`);
        fs.writeFileSync(path.join(ARTIFACTS, 'code-server.log'), run.server.log.join('\n'));
        await run.ui.closeWidgets().catch(() => undefined);
      }
    }
  } finally {
    await run.stop();
    // code-server's last writes may still land while the folder goes.
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
  const verdict = failed ? `FAILED (${failed} of ${CHECKS.length} checks)` : `passed (${CHECKS.length} checks)`;
  console.log(`${verdict}: VS Code workbench, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exitCode = failed ? 1 : 0;
}

await main();
