/**
 * A newcomer's first ten minutes (issue 18), walked in a browser: `npm start`, the editor, the
 * alert-routing example imported and deployed, every fault button pressed, the dashboard read.
 * Checks: no [error] in the log, no invalid node and no deploy prompt, an idle fleet that stays
 * healthy, each fault visible as a state change and an alert in the debug sidebar and resolved once
 * cleared, notifications delivered to the local sinks. Screenshots of each step go to .screenshots/.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../support/browser';
import { freePort, waitFor } from '../support/ports';
import { stopGroup } from '../support/process-group';

const root = path.resolve(__dirname, '..', '..', '..');
const shots = path.join(root, '.screenshots', 'first-ten-minutes');
// Fast enough that the shortened windows (600 s / 20 = 30 s) pass inside the test.
const SPEED = 20;
const IDLE_MS = 20_000;

interface DebugLine { id: string; name?: string; msg: string }
interface Note { via: string; to: string; subject: string }

describe('a newcomer\'s first ten minutes', function () {
  this.timeout(150_000);
  let child: ChildProcess;
  let output = '';
  let port = 0;
  let mqttPort = 0;
  let sinkUrl = '';
  let browser: Browser;
  let page: Page;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-first-'));
  const quickStart = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'quick-start.json'), 'utf8')) as Array<{ id: string; type: string; name?: string; topic?: string; payload?: string }>;
  const faults = quickStart.filter((n) => n.type === 'inject' && n.topic?.startsWith('sim/fault/') && n.payload?.includes('"inject"'));
  const clearButton = quickStart.find((n) => n.type === 'inject' && n.topic === 'sim/fault/all')!;
  const victims = faults.map((b) => b.topic!.split('/')[2]);
  const api = (p: string) => `http://127.0.0.1:${port}${p}`;
  const shot = async (name: string, p: Page = page) => { await p.screenshot({ path: path.join(shots, `${name}.png`) }); };
  const lines = async (name: string): Promise<string[]> => page.evaluate((n) => ((window as unknown as { __debug: DebugLine[] }).__debug).filter((d) => d.name === n).map((d) => String(d.msg)), name);

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    port = await freePort();
    mqttPort = await freePort();
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: String(port), FLEET_MQTT_PORT: String(mqttPort), FLEET_USER_DIR: userDir, FLEET_DEVICES: '20', FLEET_SIM_SPEED: String(SPEED) },
    });
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    browser = await launchChromium();
    await waitFor(`npm start to start its flows\n${output}`, () => {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      return output.includes('Started flows');
    }, 60_000);
    sinkUrl = /received: (http:\/\/127\.0\.0\.1:\d+)\/notifications/.exec(output)?.[1] ?? '';
    assert.ok(sinkUrl, `the sinks' address in the log\n${output}`);
  });

  after(async () => {
    await browser?.close();
    await stopGroup(child);
    fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  it('opens the editor with no invalid node', async () => {
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(api('/'));
    await page.waitForFunction(() => {
      const RED = (window as unknown as { RED?: { nodes?: { eachNode(f: (n: unknown) => void): void } } }).RED;
      let n = 0;
      RED?.nodes?.eachNode(() => { n++; });
      return n > 20 && document.querySelector('#red-ui-header-button-deploy') !== null;
    }, undefined, { timeout: 30_000 });
    await page.evaluate(() => {
      const w = window as unknown as { __debug: DebugLine[]; RED: { comms: { subscribe(t: string, f: (topic: string, m: DebugLine) => void): void } } };
      w.__debug = [];
      w.RED.comms.subscribe('debug', (_t, m) => { w.__debug.push(m); });
    });
    // The debug sidebar open, as a newcomer would have it, for the screenshots.
    await page.evaluate(() => { (window as unknown as { RED: { sidebar: { show(t: string): void } } }).RED.sidebar.show('debug'); });
    const invalid = await invalidNodes(page);
    await shot('1-editor');
    assert.deepEqual(invalid, []);
  });

  it('imports the alert-routing example and deploys it without the "not properly configured" prompt', async () => {
    // As a user would, pointed at the broker of this npm start (a free port here, not 1883).
    const example = JSON.stringify((JSON.parse(fs.readFileSync(path.join(root, 'flows', 'alert-routing.json'), 'utf8')) as Array<Record<string, unknown>>)
      .map((n) => (n.type === 'mqtt-broker' ? { ...n, port: String(mqttPort) } : n)));
    await page.evaluate((json) => {
      (window as unknown as { RED: { view: { importNodes(n: unknown, o: unknown): void } } }).RED.view.importNodes(JSON.parse(json), { generateIds: false, addFlow: false });
    }, example);
    assert.deepEqual(await invalidNodes(page), []);
    await page.click('#red-ui-header-button-deploy');
    const outcome = await waitFor('the deploy to finish or prompt', async () => {
      const text = await page.evaluate(() => Array.from(document.querySelectorAll('.red-ui-notification')).map((e) => e.textContent ?? '').join(' | '));
      return /not properly configured|Are you sure/.test(text) ? `prompt: ${text}` : /Successfully deployed/.test(text) ? 'deployed' : null;
    }, 15_000);
    await shot('2-alert-routing-deployed');
    assert.equal(outcome, 'deployed');
    const flows = (await (await fetch(api('/flows'))).json()) as Array<{ id: string }>;
    assert.ok(flows.some((n) => n.id === 'ar-alerts'));
  });

  it(`keeps the idle fleet healthy for ${IDLE_MS / 1000} s: no state change but to healthy, no alert`, async () => {
    interface Dev { id: string; health: string | null }
    await waitFor('every device scored healthy', async () => {
      const list = (await (await fetch(api('/fleet-registry/qs-registry/devices'))).json()) as { devices: Dev[] };
      return list.devices.length === 20 && list.devices.every((d) => d.health === 'healthy');
    }, 30_000);
    const changesBefore = (await lines('health changes')).length;
    const alertsBefore = (await lines('alerts')).length;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const changes = (await lines('health changes')).slice(changesBefore);
    const alerts = (await lines('alerts')).slice(alertsBefore);
    const list = (await (await fetch(api('/fleet-registry/qs-registry/devices'))).json()) as { devices: Dev[] };
    await shot('3-idle');
    assert.deepEqual(changes.filter((l) => !/→ healthy/.test(l)), []);
    assert.deepEqual(alerts, []);
    assert.deepEqual(list.devices.filter((d) => d.health !== 'healthy'), []);
    assert.ok((await lines('sensor readings')).length === 0, 'sensor readings ship inactive');
  });

  it('shows each fault button as a state change and an alert, and its resolve once cleared', async () => {
    const changesBefore = (await lines('health changes')).length;
    const alertsBefore = (await lines('alerts')).length;
    for (const b of faults) assert.equal((await fetch(api(`/inject/${b.id}`), { method: 'POST' })).status, 200, b.name);
    const seen = await waitFor('a state change and an alert for every fault', async () => {
      const changes = (await lines('health changes')).slice(changesBefore);
      const alerts = (await lines('alerts')).slice(alertsBefore);
      const ok = victims.every((v) => changes.some((l) => l.startsWith(`${v}: `) && /→ (degraded|critical|offline)/.test(l))
        && alerts.some((l) => l.startsWith('firing') && l.includes(v)));
      return ok ? { changes, alerts } : null;
    }, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await lines('health changes')).slice(changesBefore).join('\n')}\n${(await lines('alerts')).slice(alertsBefore).join('\n')}`);
    });
    await shot('4-faults');
    // Every line is one readable line: device, states and reasons.
    for (const l of seen.changes) assert.match(l, /^[\w-]+: \w+ → \w+ \(score \d+\)/);
    const dashboard = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await dashboard.goto(api('/dashboard/fleet'));
    await dashboard.waitForSelector('.fleet-line', { timeout: 20_000 });
    await waitFor('the dashboard to show the faults', async () => /[1-9]\d* (degraded|critical|offline)/.test((await dashboard.locator('.fleet-line').allTextContents()).join(' ')), 20_000);
    await shot('5-dashboard-faults', dashboard);

    const afterFaults = { changes: (await lines('health changes')).length, alerts: (await lines('alerts')).length };
    assert.equal((await fetch(api(`/inject/${clearButton.id}`), { method: 'POST' })).status, 200);
    await waitFor('every faulty device healthy again, its alerts resolved', async () => {
      const changes = (await lines('health changes')).slice(afterFaults.changes);
      const alerts = (await lines('alerts')).slice(afterFaults.alerts);
      return victims.every((v) => changes.some((l) => l.startsWith(`${v}: `) && /→ healthy/.test(l)) && alerts.some((l) => l.startsWith('resolved') && l.includes(v)));
    }, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await lines('health changes')).slice(afterFaults.changes).join('\n')}\n${(await lines('alerts')).slice(afterFaults.alerts).join('\n')}`);
    });
    await waitFor('the dashboard to show a healthy fleet', async () => /20 devices: 20 healthy/.test((await dashboard.locator('.fleet-line').allTextContents()).join(' ')), 20_000);
    await shot('6-dashboard-resolved', dashboard);
    await shot('7-resolved');
    await dashboard.close();
  });

  it('delivers notifications to the local mail and chat sinks, and shows them on the dashboard', async () => {
    const notes = await waitFor('an e-mail and a chat message at the sinks', async () => {
      const list = (await (await fetch(`${sinkUrl}/notifications`)).json()) as Note[];
      return list.some((n) => n.via === 'e-mail') && list.some((n) => n.via === 'chat') ? list : null;
    }, 40_000);
    assert.ok(notes.every((n) => n.subject.length > 0));
    assert.match(output, /\[sink\] e-mail to facilities@example\.invalid: /);
    assert.match(output, /\[sink\] chat to on-call: /);
    const dashboard = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    await dashboard.goto(api('/dashboard/fleet'));
    await waitFor('the notifications table', async () => (await dashboard.locator('table').allTextContents()).join(' ').includes('e-mail'), 20_000);
    await shot('8-dashboard-notifications', dashboard);
    await dashboard.close();
  });

  it('logged no [error] on the way', () => {
    assert.doesNotMatch(output, /\[error\]/, output.split('\n').filter((l) => l.includes('[error]')).join('\n'));
    assert.doesNotMatch(output, /ENOTFOUND/);
  });
});

/** Nodes the editor itself marks invalid, with the property it objects to. */
function invalidNodes(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    interface EditorNode { id: string; type: string; valid?: boolean; validationErrors?: string[]; _def?: unknown }
    const RED = (window as unknown as { RED: { nodes: { eachNode(f: (n: EditorNode) => void): void; eachConfig(f: (n: EditorNode) => void): void; validateNode?(n: EditorNode): void } } }).RED;
    const out: string[] = [];
    const check = (n: EditorNode) => {
      RED.nodes.validateNode?.(n);
      if (n.valid === false) out.push(`${n.type} ${n.id}: ${(n.validationErrors ?? []).join(', ')}`);
    };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig(check);
    return out;
  });
}
