/**
 * The README's main job: `npm start` brings up the broker, the simulated fleet and Node-RED with the
 * quick-start flow, and decoded traffic shows within 30 s. Run on free ports and a temporary user
 * directory, so it does not touch a developer's own .node-red-data.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { launchChromium } from '../support/browser';
import { freePort, waitFor } from '../support/ports';
import { stopGroup } from '../support/process-group';

const root = path.resolve(__dirname, '..', '..', '..');

describe('npm start (the main job)', function () {
  this.timeout(90_000);
  let child: ChildProcess;
  let output = '';
  let port = 0;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-start-'));

  before(async () => {
    port = await freePort();
    const mqttPort = await freePort();
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), FLEET_MQTT_PORT: String(mqttPort), FLEET_USER_DIR: userDir, FLEET_DEVICES: '20', FLEET_SIM_SPEED: '10' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  });

  after(async () => {
    await stopGroup(child);
    fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  it('serves Node-RED on loopback with the quick-start flow deployed', async () => {
    await waitFor(`Node-RED to start flows\n${output}`, () => output.includes('Started flows'), 45_000);
    assert.match(output, /MQTT broker \(aedes\) on mqtt:\/\/127\.0\.0\.1:/);
    assert.match(output, /Server now running at http:\/\/127\.0\.0\.1:/);
    assert.match(output, /mail sink on smtp:\/\/127\.0\.0\.1:\d+, chat webhook sink on http:\/\/127\.0\.0\.1:\d+\/chat/);
    const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as Array<{ type: string }>;
    for (const type of ['fleet-decode', 'fleet-health', 'fleet-registry', 'mqtt in']) assert.ok(flows.some((n) => n.type === type), type);
    assert.doesNotMatch(output, /\[error\]/);
  });

  it('shows decoded traffic from the simulated fleet within 30 s', async () => {
    const started = Date.now();
    const list = await waitFor('decoded devices in the registry', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/fleet-registry/qs-registry/devices`);
      const body = (await r.json()) as { count: number };
      return body.count === 20 ? body : null;
    }, 30_000);
    assert.equal(list.count, 20);
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('npm start: the dashboard', function () {
  this.timeout(90_000);

  it('shows the live fleet at /dashboard in a browser', async () => {
    const port = await freePort();
    const mqttPort = await freePort();
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-start-db-'));
    let output = '';
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: String(port), FLEET_MQTT_PORT: String(mqttPort), FLEET_USER_DIR: userDir, FLEET_DEVICES: '12', FLEET_SIM_SPEED: '10' },
    });
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    const browser = await launchChromium();
    try {
      await waitFor(`the dashboard to start\n${output}`, () => output.includes('Node-RED Dashboard 2.0') && output.includes('Started flows'), 45_000);
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/dashboard/fleet`);
      await page.waitForSelector('.fleet-line', { timeout: 30_000 });
      const line = await waitFor('the fleet line', async () => {
        const t = (await page.locator('.fleet-line').allTextContents()).join(' ');
        return /12 devices: \d+ healthy/.test(t) ? t : null;
      }, 30_000);
      assert.match(line, /· \d+ offline/);
      assert.ok(await page.locator('canvas').count() >= 1, 'the chart renders');
      // The Devices table of the same page: one row per device of the fleet, 25 a page at most.
      await waitFor('a row per device', async () => (await page.locator('.fleet-row').count()) === 12, 20_000);
    } finally {
      await browser.close();
      if (child.pid && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(-child.pid, 'SIGINT');
        await exited;
      }
      fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
});
