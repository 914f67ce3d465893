/** The Node-RED editor in a playwright page: what went wrong on it, deploy, and the edit tray. */
import type { Page } from 'playwright-core';

export interface PageProblem {
  readonly kind: 'console' | 'pageerror' | 'http';
  readonly text: string;
  /** For 'http': the status and URL of a request the server refused. */
  readonly status?: number;
  readonly url?: string;
}

/** Everything the page reports as an error from now on: console errors, uncaught exceptions, refused requests. */
export function watchPage(page: Page): PageProblem[] {
  const problems: PageProblem[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push({ kind: 'console', text: m.text() }); });
  page.on('pageerror', (e) => problems.push({ kind: 'pageerror', text: `${e.message}\n${e.stack ?? ''}` }));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push({ kind: 'http', text: `${r.status()} ${r.request().method()} ${r.url()}`, status: r.status(), url: r.url() });
  });
  page.on('requestfailed', (r) => problems.push({ kind: 'http', text: `${r.failure()?.errorText ?? 'failed'} ${r.method()} ${r.url()}`, url: r.url() }));
  return problems;
}

/** Settings for a Node-RED the editor tests drive: no Flow Library catalogue fetch (this machine is offline). */
export const EDITOR_THEME = { projects: { enabled: false }, tours: false, palette: { catalogues: [] as string[] } };

/** Opens the editor and waits until the palette and the workspace are drawn. */
export async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('.red-ui-palette-node[data-palette-type="fleet-decode"]', { timeout: 60_000 });
  await page.waitForSelector('#red-ui-workspace-chart', { timeout: 30_000 });
}

/** Waits until no edit tray is open: opening another while one slides away mixes up their inputs. */
export async function trayClosed(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10_000 });
}

/** Clicks Deploy (confirming a deploy with invalid nodes when `allowInvalid`) and waits for its notice. */
export async function deploy(page: Page, opts: { allowInvalid?: boolean } = {}): Promise<void> {
  await page.click('#red-ui-header-button-deploy');
  const done = page.waitForSelector('.red-ui-notification:has-text("Successfully deployed")', { timeout: 30_000 });
  const confirm = page.waitForSelector('.red-ui-notification button:has-text("Confirm deploy")', { timeout: 30_000 });
  // Both waits are settled here, so the one that loses the race cannot reject unhandled later.
  const first = await Promise.race([done.then(() => 'done' as const, () => 'timeout' as const), confirm.then(() => 'confirm' as const, () => 'timeout' as const)]);
  if (first === 'timeout') throw new Error('no deploy notice within 30 s');
  if (first === 'confirm') {
    if (!opts.allowInvalid) {
      const text = await page.textContent('.red-ui-notification:has(button:has-text("Confirm deploy"))');
      throw new Error(`deploy asks to confirm: ${text?.replace(/\s+/g, ' ').trim()}`);
    }
    await page.click('.red-ui-notification button:has-text("Confirm deploy")');
    await page.waitForSelector('.red-ui-notification:has-text("Successfully deployed")', { timeout: 30_000 });
  }
  // The editor clears its "changed" state when the runtime answers.
  await page.waitForFunction(() => !(window as unknown as { RED: { nodes: { dirty(): boolean } } }).RED.nodes.dirty(), undefined, { timeout: 30_000 });
}
