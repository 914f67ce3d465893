/**
 * The dashboard of `npm start` in Chromium (issue 17): the Fleet page lists the virtual fleet live
 * and filters it, a click opens the device's page with its readings, and on the Alerts page an
 * alert from a fault button is acknowledged and its device silenced through the quick start's
 * fleet-alerts node (checked in that node's own journal, not only on the page). Screenshots of each
 * page go to .screenshots/dashboard/.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../support/browser';
import { freePort, waitFor } from '../support/ports';
import { stopGroup } from '../support/process-group';

const root = path.resolve(__dirname, '..', '..', '..');
const shots = path.join(root, '.screenshots', 'dashboard');
const DEVICES = 12;

/** The last value of each key in a fleet-alerts journal (`{"k", "v"}` or `{"k", "d": 1}` lines). */
function journal(file: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as { k: string; v?: unknown; d?: number };
      if (r.d) out.delete(r.k); else out.set(r.k, r.v);
    } catch { /* a torn last line */ }
  }
  return out;
}

describe('npm start: the dashboard pages', function () {
  this.timeout(120_000);
  let child: ChildProcess;
  let output = '';
  let port = 0;
  let browser: Browser;
  let page: Page;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-dashboard-'));
  const api = (p: string) => `http://127.0.0.1:${port}${p}`;
  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
  const alertsJournal = () => journal(path.join(userDir, 'fleet-state', 'fleet-alerts-qs-alerts.jsonl'));

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    port = await freePort();
    const mqttPort = await freePort();
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: String(port), FLEET_MQTT_PORT: String(mqttPort), FLEET_USER_DIR: userDir, FLEET_DEVICES: String(DEVICES), FLEET_SIM_SPEED: '10' },
    });
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    browser = await launchChromium();
    await waitFor(`npm start to start its flows\n${output}`, () => {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      return output.includes('Started flows');
    }, 45_000);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    await stopGroup(child);
    fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  it('Fleet page: every device of the virtual fleet, live, filtered by kind', async () => {
    await page.goto(api('/dashboard/fleet'));
    const rows = page.locator('.fleet-row');
    // Rows come first from the retained presence (state unknown), then scored by fleet-health.
    await waitFor('a row for every device, every one scored', async () => (await rows.count()) === DEVICES && (await page.locator('.fleet-row .st-unknown').count()) === 0, 40_000);
    await waitFor('the health counts', async () => /devices: \d+ healthy/.test((await page.locator('.fleet-line').allTextContents()).join(' ')), 10_000);
    // Live: the "last seen" column moves without a reload.
    const seen = async () => (await page.locator('.fleet-row td:nth-child(7)').allTextContents()).join('|');
    const before = await seen();
    await waitFor('the rows to update', async () => (await seen()) !== before, 10_000);
    const firmware = await page.locator('.fleet-row td:nth-child(4)').allTextContents();
    assert.ok(firmware.every((f) => /^\d+\.\d+\.\d+/.test(f)), firmware.join(','));
    await shot('fleet');

    await page.locator('.fleet-filters select').first().selectOption('env-monitor');
    await waitFor('only env-monitors listed', async () => {
      const kinds = await page.locator('.fleet-row td:nth-child(2)').allTextContents();
      return kinds.length > 0 && kinds.length < DEVICES && kinds.every((k) => k === 'env-monitor');
    }, 10_000);
    await page.locator('.fleet-filters select').first().selectOption('');
    await waitFor('every device again', async () => (await rows.count()) === DEVICES, 10_000);
  });

  it('a click on a device opens its page with readings over time and health factors', async () => {
    await page.locator('.fleet-row[data-device="esp32c3_001"]').click();
    await page.waitForURL(/\/dashboard\/device/, { timeout: 10_000 });
    await waitFor('the device page', async () => ((await page.locator('.dev-id').textContent()) ?? '') === 'esp32c3_001', 10_000);
    // Signal and CPU come in its metrics (often), heap and chip temperature in its health report (less often).
    for (const s of ['wifi_rssi', 'cpu_usage_percent', 'free_heap', 'chip_temperature']) await page.locator(`.dev-chart[data-series="${s}"]`).waitFor({ timeout: 30_000 });
    // Over time: the signal chart draws more than one point.
    await waitFor('a line of readings', async () => ((await page.locator('.dev-chart[data-series="wifi_rssi"] polyline').getAttribute('points')) ?? '').split(' ').length > 2, 20_000);
    assert.ok(await page.locator('.dev-factors tbody tr').count() > 0, 'health factors listed');
    await shot('device');
  });

  it('Alerts page: an injected fault\'s alert is acknowledged and its device silenced through fleet-alerts', async () => {
    // Weak Wi-Fi (the quick start's button): straight to critical, for 2 minutes, so the alert stays.
    const victim = 'esp32-c3-full-003';
    assert.equal((await fetch(api('/inject/qs-fault-4'), { method: 'POST' })).status, 200);
    await page.goto(api('/dashboard/alerts'));
    const first = page.locator(`.al-row[data-device="${victim}"]`).first();
    await first.waitFor({ timeout: 45_000 });
    const fingerprint = (await first.getAttribute('data-fingerprint'))!;
    const row = page.locator(`.al-row[data-fingerprint="${fingerprint}"]`);
    assert.match(await row.locator('.al-state').textContent() ?? '', /new/);

    await row.locator('.al-ack').click();
    await waitFor('the row acknowledged', async () => /acknowledged/.test((await row.locator('.al-state').textContent()) ?? ''), 10_000);
    await waitFor('fleet-alerts to record the acknowledgement', () => (alertsJournal().get(`f:${fingerprint}`) as { acked?: boolean } | undefined)?.acked === true, 10_000);

    // Notified after the route's group_wait (5 s), before the silence mutes the device.
    await waitFor('a notification to the dashboard receiver', async () => /dashboard\s*firing/.test((await page.locator('.al-notes tbody').textContent()) ?? ''), 30_000);

    await row.locator('.al-silence').click();
    assert.match(await page.locator('.al-matchers').inputValue(), new RegExp(`device="${victim}"`));
    await page.locator('.al-duration').selectOption('15m');
    await page.locator('.al-create').click();
    await page.locator('.al-silence-row').first().waitFor({ timeout: 10_000 });
    await waitFor('the row silenced', async () => /silenced/.test((await row.locator('.al-state').textContent()) ?? ''), 10_000);
    const silences = () => [...alertsJournal().keys()].filter((k) => k.startsWith('s:dashboard-'));
    await waitFor('fleet-alerts to hold the silence', () => silences().length === 1, 10_000);
    await waitFor('fleet-alerts\' own count', async () => /1 silences/.test((await page.locator('.al-status').textContent()) ?? ''), 10_000);
    await shot('alerts');

    await page.locator('.al-end').first().click();
    await waitFor('the silence ended in fleet-alerts', () => silences().length === 0, 10_000);
    await waitFor('the silence gone from the page', async () => (await page.locator('.al-silence-row').count()) === 0, 10_000);

    // A matcher fleet-alerts refuses: its refusal (through the quick start's catch node) shows here, and no silence is listed.
    await row.locator('.al-silence').click();
    await page.locator('.al-matchers').fill('device=~"(("');
    await page.locator('.al-create').click();
    await waitFor('the refusal', async () => /silence refused: /.test((await page.locator('.al-refused').textContent({ timeout: 1000 }).catch(() => '')) ?? ''), 10_000);
    assert.equal(await page.locator('.al-silence-row').count(), 0);
    assert.equal(silences().length, 0);
  });

  it('logged no [error]', () => {
    assert.doesNotMatch(output, /\[error\]/, output.split('\n').filter((l) => l.includes('[error]')).join('\n'));
  });
});

describe('the fleet view of the dashboard flow (its function node, run as Node-RED runs it)', () => {
  type Out = Array<{ topic?: string; payload?: { rows?: unknown[]; total?: number; shown?: number; pages?: number } } | null> | null;
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'demo', 'fleet-dashboard.json'), 'utf8')) as Array<{ id: string; func?: string }>;
  const code = flow.find((n) => n.id === 'db2-model')!.func!;
  const store = new Map<string, unknown>();
  const sandbox = { context: { get: (k: string) => store.get(k), set: (k: string, v: unknown) => { store.set(k, v); } }, msg: {} as unknown, Date, Math, JSON, Object, Map, Set, Number, String, Array };
  const script = new vm.Script(`(function () { ${code} })()`);
  const run = (msg: unknown): Out => { sandbox.msg = msg; return script.runInNewContext(sandbox) as Out; };

  it('takes 10,000 devices\' readings without sending, then sends one page of 25 rows a tick, and nothing when nothing changed', () => {
    for (let i = 0; i < 10_000; i++) {
      const id = `dev-${String(i).padStart(5, '0')}`;
      const sent = run({ topic: `esp32/${id}/health`, kind: 'health', contract: {}, device: { id, kind: 'env-monitor', firmware: '1.2.0', online: true, labels: { site: i % 2 ? 'north' : 'south' } }, payload: { free_heap: 20_000 + i, wifi_rssi: -50 } });
      assert.equal(sent, null);
    }
    const tick = run({ topic: 'tick' })!;
    const page = tick[0]!.payload!;
    assert.equal(page.total, 10_000);
    assert.equal(page.rows!.length, 25);
    assert.equal(page.pages, 400);
    assert.ok(JSON.stringify(tick[0]).length < 20_000, `a page is ${JSON.stringify(tick[0]).length} characters`);
    assert.equal(run({ topic: 'tick' })![0], null, 'nothing changed: nothing sent');
    const north = run({ topic: 'ui/filter', payload: { site: 'north' } })![0]!.payload!;
    assert.equal(north.shown, 5_000);
    assert.equal(north.rows!.length, 25);
  });

  it('sends fleet-alerts a silence only with a duration it offers, and forgets one fleet-alerts refused', () => {
    assert.equal(run({ topic: 'ui/silence', payload: { matchers: ['device="dev-00001"'], duration: '30 years' } })![3], null);
    const sent = run({ topic: 'ui/silence', payload: { matchers: ['device=~"(("'], duration: '1h' } })![3] as unknown as { topic: string; payload: { id: string; matchers: string[] } };
    assert.equal(sent.topic, 'silence');
    assert.deepEqual([...sent.payload.matchers], ['device=~"(("']);
    // Through JSON, as the message reaches the browser (and out of the vm's realm, for deepEqual).
    const listed = () => (JSON.parse(JSON.stringify(run({ topic: 'ui/ack', payload: { fingerprint: 'none' } })![2])) as { payload: { silences: Array<{ id: string }>; refused: string } }).payload;
    assert.deepEqual(listed().silences.map((x) => x.id), [sent.payload.id]);
    // What a catch node on fleet-alerts hands back: the message it refused, with the error.
    assert.equal(run({ ...sent, error: { message: 'fleet-alerts: silence: missing closing )', source: { id: 'qs-alerts', type: 'fleet-alerts' } } }), null);
    const after = listed();
    assert.deepEqual(after.silences, []);
    assert.match(after.refused, /silence refused: .*missing closing/);
  });
});
