/** The fleet-alerts dialog in a real browser: the route list, its checks, and "test an alert". */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../support/browser';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';

describe('fleet-alerts dialog', function () {
  this.timeout(90_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-alerts-shots-'));

  before(async () => {
    broker = await startAedes();
    const flow = shippedFlow('alert-routing.json', broker.port);
    red = new NodeRedProcess();
    red.writeFlows(flow);
    await red.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${red.url}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="fleet-alerts"]', { timeout: 30_000 });
    await page.evaluate(() => {
      const w = window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } };
      w.RED.editor.edit(w.RED.nodes.node('ar-alerts'));
    });
    // The route list fills after the editor's own admin request: slow while both passes start browsers.
    await page.waitForSelector('#fleet-alerts-routes .fa-route-receiver', { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    red?.cleanup();
    await broker?.close();
  });

  const reaches = async (): Promise<string> => ((await page.textContent('#fleet-alerts-reaches')) ?? '').trim();

  it('finds every node of the shipped flow valid by its editor\'s own checks (the runtime\'s parsers)', async () => {
    const invalid = await page.evaluate(() => {
      const out: string[] = [];
      let checked = 0;
      const w = window as unknown as { RED: { nodes: { eachNode(f: (n: { id: string; type: string; valid?: boolean }) => void): void; eachConfig(f: (n: { id: string; type: string; valid?: boolean }) => void): void } } };
      const see = (n: { id: string; type: string; valid?: boolean }) => {
        if (!n.type.startsWith('fleet-')) return;
        if (n.valid === false) out.push(n.id); else if (n.valid === true) checked++;
      };
      w.RED.nodes.eachNode(see);
      w.RED.nodes.eachConfig(see);
      return { out, checked };
    });
    assert.deepEqual(invalid.out, []);
    assert.equal(invalid.checked, 4, 'registry, decode, health and alerts were each validated');
  });

  it('lists the default route and its routes, and shows where a sample alert goes', async () => {
    assert.equal(await page.locator('#fleet-alerts-routes .fa-route-receiver').count(), 3);
    assert.equal(await page.inputValue('#fleet-alerts-default-receiver'), 'dashboard');
    await page.fill('#fleet-alerts-test', 'alertname=DeviceOffline severity=major site=north');
    await page.waitForFunction(() => /email facilities/.test(document.querySelector('#fleet-alerts-reaches')?.textContent ?? ''));
    assert.match(await reaches(), /email facilities \(route\.routes\[1\]\)/);
  });

  it('a bad matcher typed in the list is named by route and field', async () => {
    const first = page.locator('#fleet-alerts-routes .fa-route-matchers').first();
    await first.fill('severity critical');
    await first.dispatchEvent('change');
    await page.waitForSelector('#fleet-alerts-check:has-text("route.routes[0] matchers[0]")', { timeout: 10_000 });
    await first.fill('severity="critical"');
    await first.dispatchEvent('change');
    await page.waitForSelector('#fleet-alerts-check:has-text("Routing is valid.")', { timeout: 10_000 });
  });

  it('the receiver and route lists grow with the dialog', async () => {
    const heights = async () => page.evaluate(() => ['#fleet-alerts-receivers', '#fleet-alerts-routes'].map((id) => {
      const el = document.querySelector(id)?.closest('.red-ui-editableList-container');
      return el ? el.getBoundingClientRect().height : 0;
    }));
    const small = await heights();
    await page.setViewportSize({ width: 1400, height: 2200 });
    await page.waitForFunction((before) => {
      const el = document.querySelector('#fleet-alerts-routes')?.closest('.red-ui-editableList-container');
      return !!el && el.getBoundingClientRect().height > before + 200;
    }, small[1], { timeout: 10_000 });
    const tall = await heights();
    assert.ok(tall[0] > small[0], `receivers list ${small[0]} → ${tall[0]} px`);
    assert.ok(tall[1] > small[1] + 200, `routes list ${small[1]} → ${tall[1]} px`);
    // Nothing of the dialog is pushed out of it: the last row is still inside the tray.
    const tray = await page.locator('.red-ui-tray-body').boundingBox();
    const last = await page.locator('#fleet-alerts-unsupported').boundingBox();
    assert.ok(tray && last && last.y <= tray.y + tray.height, 'the lists push the dialog past its bottom');
    await page.screenshot({ path: path.join(shots, 'alerts-dialog-tall.png') });
    await page.setViewportSize({ width: 1400, height: 1000 });
  });

  it('changing a route\'s receiver changes where the alert goes, and is saved', async () => {
    await page.locator('#fleet-alerts-routes .fa-route-receiver').nth(1).selectOption('chat on-call');
    await page.waitForFunction(() => /chat on-call \(route\.routes\[1\]\)/.test(document.querySelector('#fleet-alerts-reaches')?.textContent ?? ''));
    await page.screenshot({ path: path.join(shots, 'alerts-dialog.png'), fullPage: true });
    await page.click('#node-dialog-ok');
    const routing = await page.evaluate(() => (window as unknown as { RED: { nodes: { node(id: string): { routing: string } } } }).RED.nodes.node('ar-alerts').routing);
    const doc = JSON.parse(routing) as { route: { routes: Array<{ receiver: string }> }; inhibit_rules: unknown[]; escalations: unknown[] };
    assert.equal(doc.route.routes[1].receiver, 'chat on-call');
    assert.equal(doc.inhibit_rules.length, 1, 'the rest of the document is kept');
    assert.equal(doc.escalations.length, 1);
  });

  it('the help\'s code example wraps inside the sidebar', async () => {
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { help: { show(type: string): void } } } }).RED.sidebar.help.show('fleet-alerts'));
    await page.waitForSelector('.red-ui-help pre', { timeout: 10_000 });
    const pres = await page.evaluate(() => Array.from(document.querySelectorAll('.red-ui-help pre')).map((p) => ({ scroll: p.scrollWidth, client: p.clientWidth })));
    assert.ok(pres.length > 0);
    for (const p of pres) assert.ok(p.scroll <= p.client + 1, `a code example overflows: ${p.scroll} > ${p.client} px`);
    const overflowing = await page.evaluate(() => Array.from(document.querySelectorAll('.red-ui-help code, .red-ui-help pre'))
      .map((el) => ({ el: el.getBoundingClientRect(), panel: el.closest('.red-ui-help')!.getBoundingClientRect(), text: el.textContent?.slice(0, 40) }))
      .filter((x) => x.panel.width > 0 && x.el.right > x.panel.right + 1)
      .map((x) => `${x.text}: ${Math.round(x.el.right)} > ${Math.round(x.panel.right)} px`));
    assert.deepEqual(overflowing, [], 'code running past the help sidebar');
    await page.screenshot({ path: path.join(shots, 'alerts-help.png') });
  });

  it('opening a node saved without configVersion runs the node\'s migrations in the editor', async () => {
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10_000 });
    type W = { RED: { nodes: { import(n: unknown): unknown; node(id: string): Record<string, unknown>; workspace(): unknown; }; workspaces: { active(): string }; editor: { edit(n: unknown): void } } };
    const before = await page.evaluate(() => {
      const w = window as unknown as W;
      w.RED.nodes.import([{ id: 'old-decode', type: 'fleet-decode', z: w.RED.workspaces.active(), x: 600, y: 600, name: 'old', rejects: 'both', wires: [[], []] }]);
      const n = w.RED.nodes.node('old-decode');
      return { configVersion: n.configVersion ?? null, profiles: n.profiles ?? null };
    });
    assert.deepEqual(before, { configVersion: null, profiles: null }, 'the editor filled the old node before our migration could');
    await page.evaluate(() => { const w = window as unknown as W; w.RED.editor.edit(w.RED.nodes.node('old-decode')); });
    await page.waitForSelector('#fleet-decode-profiles input[type=checkbox]');
    assert.equal(await page.locator('#fleet-decode-profiles input:checked').count(), 4);
    assert.equal(await page.inputValue('#node-input-maxBytes'), '16384');
    assert.equal(await page.inputValue('#node-input-rejects'), 'both', 'a saved value is kept');
    await page.click('#node-dialog-ok');
    const after = await page.evaluate(() => {
      const n = (window as unknown as W).RED.nodes.node('old-decode');
      return { configVersion: n.configVersion, profiles: n.profiles, maxBytes: n.maxBytes, valid: n.valid };
    });
    assert.equal(after.configVersion, 1);
    assert.deepEqual(after.profiles, ['standard', 'ti0162', 'ti0162-lib', 'whofi']);
    assert.equal(Number(after.maxBytes), 16384);
    assert.equal(after.valid, true);
  });
});
