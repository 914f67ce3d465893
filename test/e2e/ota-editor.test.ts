/** The fleet-ota dialog in a real browser: valid as shipped, the image picker, the plan check, start and abort. */
import assert from 'node:assert/strict';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../support/browser';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const otaDemo = require('../../../scripts/ota-demo.js') as { prepare(userDir: string): unknown; patchFlow(flow: unknown[], demo: unknown): unknown[] };

describe('fleet-ota dialog', function () {
  this.timeout(90_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    broker = await startAedes();
    red = new NodeRedProcess();
    const flow = otaDemo.patchFlow(shippedFlow('ota-rollout.json', broker.port), otaDemo.prepare(red.userDir));
    red.writeFlows(flow);
    await red.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${red.url}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="fleet-ota"]', { timeout: 30_000 });
    await page.evaluate(() => {
      const w = window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } };
      w.RED.editor.edit(w.RED.nodes.node('ota-node'));
    });
    await page.waitForSelector('#fleet-ota-image option', { state: 'attached' });
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    red?.cleanup();
    await broker?.close();
  });

  it('finds the shipped fleet-ota node valid by the runtime\'s parsers, bundled', async () => {
    const valid = await page.evaluate(() => (window as unknown as { RED: { nodes: { node(id: string): { valid?: boolean } } } }).RED.nodes.node('ota-node').valid);
    assert.equal(valid, true);
  });

  it('lists the folder\'s images with their manifest', async () => {
    assert.equal(await page.inputValue('#fleet-ota-image'), 'env-sensor-1.3.0');
    const manifest = (await page.textContent('#fleet-ota-manifest')) ?? '';
    assert.match(manifest, /"version": "1\.3\.0"/);
    assert.match(manifest, /"signer": "[0-9a-f]{16}"/);
  });

  it('checks the plan with the domain\'s parser as it is typed', async () => {
    await page.fill('#node-input-plan', '{"waves": [50, 20]}');
    await page.dispatchEvent('#node-input-plan', 'change');
    assert.match((await page.textContent('#fleet-ota-plan-result')) ?? '', /^waves/);
    await page.fill('#node-input-plan', '{"waves": [20, 100], "concurrency": 2}');
    await page.dispatchEvent('#node-input-plan', 'change');
    assert.equal(await page.textContent('#fleet-ota-plan-result'), 'Plan is valid');
  });

  it('starts a rollout from the dialog over a device list and aborts it', async () => {
    await page.selectOption('#fleet-ota-target-mode', 'devices');
    await page.fill('#fleet-ota-target-value', 'esp32-c3-sync-001, esp32-c3-async-002');
    await page.fill('#fleet-ota-rollout-id', 'from-dialog');
    await page.click('#fleet-ota-start');
    await page.waitForSelector('#fleet-ota-state:has-text("from-dialog: running")', { timeout: 10_000 });
    await page.click('#fleet-ota-abort');
    await page.waitForSelector('#fleet-ota-state:has-text("from-dialog: aborted")', { timeout: 10_000 });
  });
});
