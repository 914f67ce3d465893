/**
 * The fleet-ota dialog in a real browser: valid as shipped, the image picker, an image upload (refused,
 * then stored and picked), the plan check, start and abort. The editor runs under a custom
 * httpAdminRoot with adminAuth, so the dialog's requests must carry the login and follow the root;
 * the upload endpoint needs fleet-ota.write.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../support/browser';
import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { readPrivateKey } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { KIND } from '../../firmware/contract/topics';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require('bcryptjs') as { hashSync(s: string, rounds: number): string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const otaDemo = require('../../../scripts/ota-demo.js') as { prepare(userDir: string): unknown; patchFlow(flow: unknown[], demo: unknown): unknown[] };

describe('fleet-ota dialog', function () {
  this.timeout(90_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  const PASSWORD = 'test-only-password';
  const ADMIN = '/admin';
  /** A newer image (1.4.0) signed with the demo's key, and its manifest, as files a user would pick. */
  let upload: { image: string; manifest: string; tampered: string };

  before(async () => {
    broker = await startAedes();
    red = new NodeRedProcess({
      settings: {
        httpAdminRoot: ADMIN,
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: bcrypt.hashSync(PASSWORD, 4), permissions: '*' },
            { username: 'reader', password: bcrypt.hashSync(PASSWORD, 4), permissions: 'read' },
          ],
        },
      },
    });
    const flow = otaDemo.patchFlow(shippedFlow('ota-rollout.json', broker.port), otaDemo.prepare(red.userDir));
    red.writeFlows(flow);
    const key = readPrivateKey(fs.readFileSync(path.join(red.userDir, 'ota-demo', 'keys', 'ota-signing.key'), 'utf8'));
    if (!key.ok) throw new Error(key.reason);
    const dir = fs.mkdtempSync(path.join(red.userDir, 'upload-'));
    const image = Buffer.alloc(300 * 1024, 0x5a);
    const manifest = signImage(image, key.value, { version: '1.4.0', kind: KIND.envSensor });
    upload = { image: path.join(dir, 'my-build.bin'), manifest: path.join(dir, 'my-build.manifest.json'), tampered: JSON.stringify({ ...manifest, signature: manifest.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }) };
    fs.writeFileSync(upload.image, image);
    fs.writeFileSync(upload.manifest, JSON.stringify(manifest, null, 2));
    await red.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${red.url}${ADMIN}/`);
    await page.waitForSelector('#node-dialog-login-username', { timeout: 30_000 });
    await page.fill('#node-dialog-login-username', 'admin');
    await page.fill('#node-dialog-login-password', PASSWORD);
    await page.click('#node-dialog-login-submit');
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

  it('refuses an upload whose signature does not verify, naming the field', async () => {
    await page.setInputFiles('#fleet-ota-upload-image', upload.image);
    await page.fill('#fleet-ota-upload-manifest', upload.tampered);
    await page.click('#fleet-ota-upload');
    await page.waitForSelector('#fleet-ota-upload-result:has-text("Refused: signature:")', { timeout: 10_000 });
    assert.deepEqual(await page.$$eval('#fleet-ota-image option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['env-sensor-1.3.0']);
  });

  it('uploads an image with its manifest file, shows the verified manifest and picks it', async () => {
    await page.setInputFiles('#fleet-ota-upload-manifest-file', upload.manifest);
    await page.click('#fleet-ota-upload');
    await page.waitForSelector('#fleet-ota-upload-result:has-text("Stored as env-sensor-1.4.0")', { timeout: 10_000 });
    assert.match((await page.textContent('#fleet-ota-upload-result')) ?? '', /"version": "1\.4\.0"/);
    await page.waitForFunction(() => (document.querySelector('#fleet-ota-image') as HTMLSelectElement | null)?.value === 'env-sensor-1.4.0');
    assert.deepEqual(await page.$$eval('#fleet-ota-image option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['env-sensor-1.3.0', 'env-sensor-1.4.0']);
    assert.match((await page.textContent('#fleet-ota-manifest')) ?? '', /"size": 307200/);
    assert.ok(fs.existsSync(path.join(red.userDir, 'ota-demo', 'images', 'env-sensor-1.4.0.bin')));
    assert.equal(fs.existsSync(path.join(red.userDir, 'ota-demo', 'images', 'my-build.bin')), false, 'the client\'s file name is not used');
  });

  it('needs fleet-ota.write to upload: no login and a read-only user get 401', async () => {
    const token = async (username: string, scope: string): Promise<string> => {
      const res = await fetch(`${red.url}${ADMIN}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: PASSWORD }) });
      assert.equal(res.status, 200);
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const form = (): FormData => {
      const f = new FormData();
      f.append('image', new Blob([fs.readFileSync(upload.image)]), 'x.bin');
      f.append('manifest', fs.readFileSync(upload.manifest, 'utf8'));
      return f;
    };
    const url = `${red.url}${ADMIN}/fleet-ota/ota-node/images`;
    assert.equal((await fetch(url, { method: 'POST', body: form() })).status, 401);
    const reader = await token('reader', 'read');
    assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${reader}` } })).status, 200, 'a reader lists the images');
    assert.equal((await fetch(url, { method: 'POST', body: form(), headers: { Authorization: `Bearer ${reader}` } })).status, 401);
    // The same request with write permission (curl -F would do the same): the image is already there.
    assert.equal((await fetch(url, { method: 'POST', body: form(), headers: { Authorization: `Bearer ${await token('admin', '*')}` } })).status, 200);
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
