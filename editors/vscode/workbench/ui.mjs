/**
 * What a user does in the workbench, as playwright steps: the command palette, opening a file,
 * selecting lines, hovering, the light bulb, reading the Problems panel, the status bar and the
 * notifications. Selectors are VS Code's own DOM classes (stable across 1.9x releases).
 */

// Generous: a step returns as soon as it sees what it waits for, and CI machines are slow.
const STEP_MS = 30_000;

export class Workbench {
  constructor(page) {
    this.page = page;
  }

  /** Waits until `probe()` returns something truthy, else fails saying what was awaited. */
  async until(what, probe, timeout = STEP_MS) {
    const end = Date.now() + timeout;
    let last;
    while (Date.now() < end) {
      last = await probe().catch((error) => error);
      if (last && !(last instanceof Error)) {
        return last;
      }
      await this.page.waitForTimeout(150);
    }
    throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
  }

  /** Watches `probe()` for `duration` ms and fails with what it returned if it ever returns something truthy. */
  async never(what, duration, probe) {
    const end = Date.now() + duration;
    while (Date.now() < end) {
      const seen = await probe();
      if (seen) {
        throw new Error(`${what}: ${seen}`);
      }
      await this.page.waitForTimeout(150);
    }
  }

  /** The palette's entries matching `query` (as shown, e.g. "Fusion: Review Selection"). */
  async paletteEntries(query) {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${query}`);
    await this.page.waitForTimeout(300);
    const labels = await this.page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    return labels.map((label) => label.replace(/\s+/g, ' ').trim());
  }

  /** Runs a command from the palette by its exact title. */
  async command(title) {
    const entries = await this.until(`"${title}" in the command palette`, async () => {
      const found = await this.paletteEntries(title);
      return found.includes(title) ? found : undefined;
    });
    const row = this.page.locator('.quick-input-list .monaco-list-row').nth(entries.indexOf(title));
    await row.click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  }

  /** Closes the palette, a light-bulb menu or a hover; never presses Escape in a bare editor (it would drop the selection). */
  async closeWidgets() {
    const widgets = this.page.locator('.quick-input-widget:visible, .action-widget:visible, .monaco-hover:visible');
    for (let tries = 0; tries < 3 && (await widgets.count()) > 0; tries += 1) {
      await this.page.keyboard.press('Escape');
    }
  }

  /** Opens a file of the workspace from the Explorer, as a click does. */
  async openFile(name) {
    await this.closeWidgets();
    const row = this.page.locator('.explorer-folders-view .monaco-list-row').filter({
      has: this.page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }),
    });
    await row.click();
    await this.until(`${name} open in an editor`, async () =>
      (await this.page.locator('.tab.active').getAttribute('aria-label'))?.startsWith(name),
    );
  }

  /** The gutter's number of `line` (1-based) in the active editor. */
  lineNumber(line) {
    return this.page.locator('.editor-instance .margin-view-overlays .line-numbers').getByText(`${line}`, { exact: true });
  }

  /** Selects whole lines `first`..`last` (1-based): click the first line number, shift-click the last. */
  async selectLines(first, last) {
    await this.lineNumber(first).click();
    if (last !== first) {
      await this.lineNumber(last).click({ modifiers: ['Shift'] });
    }
  }

  /** Puts the cursor at the start of `line` (1-based). */
  async goToLine(line) {
    await this.selectLines(line, line);
    await this.page.keyboard.press('ArrowLeft');
  }

  /** The active editor's text, line by line (small files: every line is rendered). */
  async editorText() {
    return this.page.evaluate(() => {
      const lines = [...document.querySelectorAll('.editor-instance .view-lines .view-line')];
      lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      return lines.map((line) => line.textContent.replace(/\u00a0/g, ' ')).join('\n');
    });
  }

  /** The hover at the cursor (Show or Focus Hover), as text. */
  async hoverText(expected) {
    return this.until(`a hover saying ${expected}`, async () => {
      await this.closeWidgets();
      await this.page.keyboard.press('Control+K');
      await this.page.keyboard.press('Control+I');
      const hover = this.page.locator('.monaco-hover:visible .hover-contents');
      await hover.first().waitFor({ state: 'visible', timeout: 3000 });
      const text = (await hover.allInnerTexts()).join('\n');
      return expected.test(text) ? text : undefined;
    });
  }

  /**
   * Runs the light bulb's action (Quick Fix…, Ctrl+.) whose title matches `pattern`, chosen
   * with the arrow keys as a user would (the menu blocks synthetic clicks while it opens).
   * Returns the titles the menu offered.
   */
  async runCodeAction(pattern) {
    let offered = [];
    await this.until(`a light-bulb action like ${pattern}`, async () => {
      await this.closeWidgets();
      await this.page.keyboard.press('Control+.');
      const rows = this.page.locator('.action-widget .monaco-list-row.action');
      await rows.first().waitFor({ state: 'visible', timeout: 3000 });
      const titles = await rows.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label') ?? ''));
      offered = titles;
      if (!titles.some((title) => pattern.test(title))) {
        return false;
      }
      for (let step = 0; step < titles.length; step += 1) {
        const focused = await this.page.locator('.action-widget .monaco-list-row.focused').getAttribute('aria-label');
        if (pattern.test(focused ?? '')) {
          await this.page.keyboard.press('Enter');
          return true;
        }
        await this.page.keyboard.press('ArrowDown');
      }
      return false;
    });
    return offered;
  }

  /** The rows of the Problems panel, as shown (message, source, position). */
  async problems() {
    const rows = this.page.locator('.markers-panel .monaco-list-row');
    return (await rows.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label') ?? n.textContent))).map(
      (label) => label.replace(/\s+/g, ' ').trim(),
    );
  }

  /** The extension's status bar item (its name is "Fusion"), and every item that shows progress. */
  statusItem() {
    return this.page.locator('.statusbar-item[id="fusion-ls.fusion-ls"]');
  }

  /** The item's text in README's notation, e.g. `$(sparkle) Fusion: 2 findings`. */
  async statusText() {
    return this.statusItem().evaluate((item) => {
      const icons = [...item.querySelectorAll('.codicon')].map((icon) => {
        const name = [...icon.classList].find((c) => c.startsWith('codicon-') && !c.startsWith('codicon-modifier'));
        const spin = icon.classList.contains('codicon-modifier-spin') ? '~spin' : '';
        return `$(${name.slice('codicon-'.length)}${spin})`;
      });
      return `${icons.join(' ')} ${item.innerText.replace(/\s+/g, ' ').trim()}`.trim();
    });
  }

  async statusItems() {
    return (await this.page.locator('.statusbar-item').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** The tooltip of the Fusion status item, read by hovering it. */
  async statusTooltip() {
    await this.page.mouse.move(0, 0);
    await this.statusItem().hover();
    const hover = this.page.locator('.workbench-hover:visible, .monaco-hover:visible');
    await hover.first().waitFor({ state: 'visible' });
    const text = (await hover.first().innerText()).trim();
    await this.page.mouse.move(0, 0);
    return text;
  }

  /** Every notification of the session (toasts hide themselves; the center keeps them), as text. */
  async notifications() {
    const center = this.page.locator('.notifications-center');
    if (!(await center.isVisible())) {
      await this.command('Notifications: Show Notifications');
    }
    return (await center.locator('.notification-list-item-message').allInnerTexts()).map((t) => t.trim());
  }

  async clearNotifications() {
    await this.command('Notifications: Clear All Notifications');
  }

  /**
   * Sets a setting in the Settings editor's Remote tab, as a user types it there: code-server is a
   * remote window, where machine-scoped settings such as `fusion.server.command` live.
   */
  async setRemoteSetting(id, value) {
    await this.command('Preferences: Open Settings (UI)');
    await this.page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: /^Remote/ }).click();
    const search = this.page.locator('.settings-editor .settings-header .suggest-input-container');
    await search.click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.type(id);
    await this.until(`one setting found for ${id}`, async () =>
      (await this.page.locator('.settings-editor .settings-count-widget').innerText()).startsWith('1 Setting'),
    );
    const input = this.page.locator('.settings-editor .setting-item-control input');
    await input.waitFor({ state: 'visible' });
    await input.fill(value);
    await input.press('Tab');
    await this.page.waitForTimeout(500); // the editor writes settings.json after a short debounce
    await this.command('View: Close Editor');
  }

  /** The lines of the Output panel that contain `text`, found with the panel's own Filter box. */
  async outputLines(text) {
    const filter = this.page.locator('.panel .viewpane-filter input, .panel .monaco-inputbox input[placeholder="Filter"]').first();
    await filter.fill(text);
    await this.page.waitForTimeout(300);
    return this.page.evaluate(() =>
      [...document.querySelectorAll('.panel .output .view-line, .panel .output-view .view-line')].map((line) =>
        line.textContent.replace(/\u00a0/g, ' '),
      ),
    );
  }
}
