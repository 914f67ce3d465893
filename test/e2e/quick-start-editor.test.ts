/**
 * The shipped quick-start flow on first deploy, Import → Examples, and the editor in a real browser
 * (Debian's Chromium driven by playwright-core), with Node-RED under a custom httpAdminRoot.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { VirtualFleet } from '../../firmware/simulator/fleet';
import { launchChromium } from '../support/browser';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';

const root = path.resolve(__dirname, '..', '..', '..');
const ADMIN = '/admin';

/** Waits until no edit tray is open: opening another while one slides away mixes up their inputs. */
async function trayClosed(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10_000 });
}


describe('quick-start flow and the editor', function () {
  this.timeout(120_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let fleet: VirtualFleet;
  let browser: Browser;
  let page: Page;
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-shots-'));

  before(async () => {
    broker = await startAedes();
    red = new NodeRedProcess({ settings: { httpAdminRoot: ADMIN } });
    red.writeFlows(shippedFlow('quick-start.json', broker.port));
    await red.start();
    fleet = new VirtualFleet({ brokerUrl: broker.url, devices: 10, seed: 5, speed: 20, tickMs: 50 });
    await fleet.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const file = path.join(shots, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      console.log(`    screenshot: ${file}`);
    }
  });

  after(async () => {
    await browser?.close();
    await fleet?.stop();
    await red?.stop();
    red?.cleanup();
    await broker?.close();
  });

  it('deploys on first start without errors and fills the registry from live traffic', async () => {
    assert.doesNotMatch(red.output, /\[error\]/, red.output);
    const list = await waitFor('devices in the quick-start registry', async () => {
      const r = await red.getJson<{ count: number }>(`${ADMIN}/fleet-registry/qs-registry/devices`);
      return r.body.count === 10 ? r.body : null;
    }, 30_000);
    assert.equal(list.count, 10);
  });

  it('scores live health, and an injected fault takes a device offline and back', async () => {
    interface Summary { id: string; health: string | null; online: boolean }
    const devices = async () => (await red.getJson<{ devices: Summary[] }>(`${ADMIN}/fleet-registry/qs-registry/devices`)).body.devices;
    await waitFor('health for every device', async () => (await devices()).every((d) => d.health !== null && d.health !== 'unknown'), 30_000);
    const victim = fleet.devices.find((d) => d.kind === 'env-sensor')!.id;
    fleet.inject(victim, 'offline');
    await waitFor(`${victim} offline in health`, async () => (await devices()).find((d) => d.id === victim)?.health === 'offline', 20_000);
    fleet.clear(victim, 'offline');
    await waitFor(`${victim} back`, async () => (await devices()).find((d) => d.id === victim)?.health === 'healthy', 20_000);
  });

  it('offers every flow in flows/, and the dashboard of demo/, under Import → Examples', async () => {
    const res = await red.getJson<{ f?: string[]; d?: Record<string, unknown> }>(`${ADMIN}/library/examples/flows/@esp32-fleet/node-red-fleet`);
    const offered = (res.body as unknown as Array<{ fn: string }>).map((e) => e.fn).sort();
    const shipped = [...fs.readdirSync(path.join(root, 'flows')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')), 'fleet-dashboard'].sort();
    assert.deepEqual(offered, shipped);
  });

  it('shows our nodes in the palette and the flow in the workspace', async () => {
    await page.goto(`${red.url}${ADMIN}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="fleet-decode"]', { timeout: 30_000 });
    await page.waitForSelector('#red-ui-workspace-chart .red-ui-flow-node-group', { timeout: 30_000 });
    const label = await page.textContent('.red-ui-palette-node[data-palette-type="fleet-decode"] .red-ui-palette-label');
    assert.equal(label?.replace(/\s+/g, ' ').trim(), 'fleet decode');
    // Help comes from locales/en-US/<type>.html, loaded with the editor files.
    const helps = await page.evaluate(() => ['fleet-decode', 'fleet-health', 'fleet-alerts', 'fleet-registry']
      .map((t) => document.querySelector(`script[data-help-name="${t}"]`)?.textContent?.length ?? 0));
    for (const n of helps) assert.ok(n > 500, `help of ${n} characters`);
    await page.screenshot({ path: path.join(shots, 'workspace.png') });
  });

  it('edit dialog: profile checkboxes, and a bad prefix map is marked invalid', async () => {
    await page.evaluate(() => {
      const w = window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } };
      w.RED.editor.edit(w.RED.nodes.node('qs-decode'));
    });
    await page.waitForSelector('#fleet-decode-profiles input[type=checkbox]');
    assert.equal(await page.locator('#fleet-decode-profiles input[type=checkbox]').count(), 4);
    assert.equal(await page.locator('#fleet-decode-kinds input:checked').count(), 5);
    await page.fill('#node-input-prefixMap', '{"esp32": 5');
    await page.locator('#node-input-prefixMap').blur();
    await page.waitForSelector('#node-input-prefixMap.input-error', { timeout: 5000 });
    await page.hover('#node-input-prefixMap');
    await page.waitForSelector('text=Prefix map must be a JSON object', { timeout: 5000 });
    await page.fill('#node-input-prefixMap', '{"esp32": "lab-bench-1"}');
    await page.locator('#node-input-prefixMap').blur();
    await waitFor('the prefix map to be valid again', async () => !(await page.locator('#node-input-prefixMap').getAttribute('class'))?.includes('input-error'), 5000);
    await page.screenshot({ path: path.join(shots, 'decode-dialog.png') });
  });

  it('health dialog: the factor table, a refused threshold named by the runtime\'s check, and the saved value', async () => {
    await page.click('#node-dialog-cancel');
    await trayClosed(page);
    await page.evaluate(() => {
      const w = window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } };
      w.RED.editor.edit(w.RED.nodes.node('qs-health'));
    });
    await page.waitForSelector('#fleet-health-factors tbody tr');
    assert.equal(await page.locator('select#node-input-registry').count(), 1, 'the registry is a config-node picker');
    assert.equal(await page.locator('#fleet-health-factors tbody tr').count(), 13);
    await page.waitForSelector('#fleet-health-check:has-text("Configuration is valid.")', { timeout: 10_000 });
    const heapWarn = page.locator('#fleet-health-factors tbody tr').first().locator('input.fh-warn');
    await heapWarn.fill('1000');
    await heapWarn.dispatchEvent('change');
    await page.waitForSelector('#fleet-health-check:has-text("factors.heap")', { timeout: 10_000 });
    assert.match(await page.textContent('#fleet-health-check') ?? '', /crit \(2500\) must be at or below warn \(1000\)/);
    // Said once, at the field: the inputs highlighted and the reason under the factor's row.
    assert.doesNotMatch(await page.textContent('#fleet-health-check') ?? '', /factors\.heap: factors\.heap/);
    const heapRow = page.locator('#fleet-health-factors tbody tr.fh-factor').first();
    assert.match(await heapRow.locator('input.fh-warn').getAttribute('class') ?? '', /input-error/);
    assert.match(await heapRow.locator('input.fh-crit').getAttribute('class') ?? '', /input-error/);
    assert.match(await page.textContent('#fleet-health-factors tr.fh-error-row') ?? '', /^crit \(2500\) must be at or below warn \(1000\)$/);
    await page.screenshot({ path: path.join(shots, 'health-dialog-refused.png') });
    // Units are written in the table, not only in a tooltip.
    assert.deepEqual(await page.locator('#fleet-health-factors tbody tr.fh-factor td.fh-unit').allTextContents().then((u) => u.slice(0, 4)), ['B', '%', '%', 'dBm']);
    // Each expected-interval pair stays on one line: its label beside its input.
    const pairs = page.locator('#fleet-health-intervals .fh-interval');
    assert.equal(await pairs.count(), 5);
    for (let i = 0; i < 5; i++) {
      const l = await pairs.nth(i).locator('label').boundingBox();
      const inp = await pairs.nth(i).locator('input').boundingBox();
      assert.ok(l && inp && Math.abs((l.y + l.height / 2) - (inp.y + inp.height / 2)) < 8 && l.x < inp.x, `interval pair ${i} wraps`);
    }
    await heapWarn.fill('6000');
    await heapWarn.dispatchEvent('change');
    await page.waitForSelector('#fleet-health-check:has-text("Configuration is valid.")', { timeout: 10_000 });
    assert.equal(await page.locator('#fleet-health-form .input-error').count(), 0, 'the highlight is cleared');
    assert.equal(await page.locator('#fleet-health-factors tr.fh-error-row').count(), 0);
    await page.screenshot({ path: path.join(shots, 'health-dialog.png') });
    await page.click('#node-dialog-ok');
    await trayClosed(page);
    const saved = await page.evaluate(() => (window as unknown as { RED: { nodes: { node(id: string): { scoring: string } } } }).RED.nodes.node('qs-health').scoring);
    assert.equal((JSON.parse(saved) as { factors: { heap: { warn: number } } }).factors.heap.warn, 6000);
    await page.evaluate(() => {
      const w = window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } };
      w.RED.editor.edit(w.RED.nodes.node('qs-decode'));
    });
    await page.waitForSelector('#node-input-btn-registry-edit');
  });

  it('registry dialog lists the live devices through the admin endpoint under a custom httpAdminRoot', async () => {
    await page.click('#node-input-btn-registry-edit');
    await page.waitForSelector('#node-config-fleet-registry-devices li.fleet-registry-device', { timeout: 15_000 });
    const ids = await page.locator('#node-config-fleet-registry-devices li.fleet-registry-device code').allTextContents();
    assert.deepEqual(ids.sort(), fleet.devices.map((d) => d.id).sort());
    assert.equal((await page.textContent('#node-config-fleet-registry-device-count'))?.trim(), '10 devices');
    // The count sits on the row of its label and filter, on one line.
    const count = await page.locator('#node-config-fleet-registry-device-count').boundingBox();
    const filter = await page.locator('#node-config-fleet-registry-filter').boundingBox();
    assert.ok(count && filter && Math.abs((count.y + count.height / 2) - (filter.y + filter.height / 2)) < 8 && count.x > filter.x, 'the device count wraps under its label');
    assert.ok(count.height < 24, `the device count wraps (${count.height} px high)`);
    await page.screenshot({ path: path.join(shots, 'registry-dialog.png') });
  });
});
